/* add_n: int8 sum of n same-shaped tensors (TFLM reference_ops::AddN semantics for int8, with one
 * rescaling per input). */
#ifndef ENN_ADD_N_H
#define ENN_ADD_N_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t size; /* elements of each input and of the output */
    int32_t n;    /* inputs, 2..15 */
    int32_t left_shift;
    const int32_t *input_offset; /* per input: -zero point */
    const int32_t *input_multiplier;
    const int32_t *input_shift; /* <= 0 */
    int32_t initial;            /* the sum's starting value (TFLM: its rescaled input offset) */
    enn_quant output;
    enn_act act;
} enn_add_n_params;

/* inputs: n pointers. output may alias any input. */
void enn_add_n(const enn_add_n_params *prm, const int8_t *const *inputs, int8_t *output);

#endif
