/* concat: int8 concatenation along one axis (TFLM reference_ops::Concatenation: a copy; all
 * inputs share the output's quantization). */
#ifndef ENN_CONCAT_H
#define ENN_CONCAT_H

#include "edgenn_prefix.h"

#include <stdint.h>

typedef struct {
    int32_t outer;          /* product of the output axes before the concatenation axis */
    int32_t num_inputs;
    const int32_t *chunk;   /* per input: its extent along the axis times the inner size */
} enn_concat_params;

/* inputs: num_inputs pointers; output must not overlap them. */
void enn_concat(const enn_concat_params *prm, const int8_t *const *inputs, int8_t *output);

#endif
