/* tanh: int8 tanh (TFLM reference_integer_ops::Tanh semantics). Output scale 1/128, zero point 0. */
#ifndef {{ kp|upper }}TANH_H
#define {{ kp|upper }}TANH_H

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t input_range_radius; /* |x - zero point| >= radius saturates */
    int32_t input_multiplier;
    int32_t input_left_shift;
} {{ kp }}tanh_params;

/* output may alias input. */
void {{ kp }}tanh(const {{ kp }}tanh_params *prm, const int8_t *input, int8_t *output);

#endif
