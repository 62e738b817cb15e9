/* logistic: int8 sigmoid (TFLM reference_integer_ops::Logistic semantics). Output scale 1/256, zero point -128. */
#ifndef ENN_LOGISTIC_H
#define ENN_LOGISTIC_H

#include "edgenn_prefix.h"

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t input_range_radius; /* |x - zero point| >= radius saturates */
    int32_t input_multiplier;
    int32_t input_left_shift;
} enn_logistic_params;

void enn_logistic(const enn_logistic_params *prm, const int8_t *input, int8_t *output);

#endif
