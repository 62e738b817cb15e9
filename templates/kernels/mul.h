/* mul: int8 elementwise multiplication with broadcasting (TFLM reference_integer_ops::Mul semantics). */
#ifndef ENN_MUL_H
#define ENN_MUL_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

#define ENN_MUL_MAX_DIMS 6

typedef struct {
    int32_t input1_offset; /* -zero point */
    int32_t input2_offset;
    enn_quant output;      /* offset: zero point; the product of the offset inputs rescaled */
    enn_act act;
    /* Shapes right-aligned to ENN_MUL_MAX_DIMS axes (leading 1s); each input axis is the output's
     * or 1 (broadcast). */
    int32_t in1_shape[ENN_MUL_MAX_DIMS];
    int32_t in2_shape[ENN_MUL_MAX_DIMS];
    int32_t out_shape[ENN_MUL_MAX_DIMS];
} enn_mul_params;

/* output may alias an input of the output's shape. */
void enn_mul(const enn_mul_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif
