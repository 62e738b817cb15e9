/* tanh: int8 tanh (TFLM reference_integer_ops::Tanh semantics). Output scale 1/128, zero point 0. */
#ifndef ENN_TANH_H
#define ENN_TANH_H

#include "edgenn_prefix.h"

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t input_range_radius; /* |x - zero point| >= radius saturates */
    int32_t input_multiplier;
    int32_t input_left_shift;
} enn_tanh_params;

/* output may alias input. */
void enn_tanh(const enn_tanh_params *prm, const int8_t *input, int8_t *output);

#endif
