/* add: int8 elementwise addition with broadcasting (TFLM reference_integer_ops::Add semantics). */
#ifndef ENN_ADD_H
#define ENN_ADD_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

#define ENN_ADD_MAX_DIMS 6

typedef struct {
    int32_t left_shift;
    enn_quant input1; /* offset: -zero point; multiplier, shift: to the common scale */
    enn_quant input2;
    enn_quant output; /* offset: zero point */
    enn_act act;
    /* Shapes right-aligned to ENN_ADD_MAX_DIMS axes (leading 1s); each input axis is the output's
     * or 1 (broadcast). */
    int32_t in1_shape[ENN_ADD_MAX_DIMS];
    int32_t in2_shape[ENN_ADD_MAX_DIMS];
    int32_t out_shape[ENN_ADD_MAX_DIMS];
} enn_add_params;

/* output may alias an input of the output's shape. */
void enn_add(const enn_add_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif
