/* logistic: int8 sigmoid (TFLM reference_integer_ops::Logistic semantics). Output scale 1/256, zero point -128. */
#ifndef {{ kp|upper }}LOGISTIC_H
#define {{ kp|upper }}LOGISTIC_H

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t input_range_radius; /* |x - zero point| >= radius saturates */
    int32_t input_multiplier;
    int32_t input_left_shift;
} {{ kp }}logistic_params;

void {{ kp }}logistic(const {{ kp }}logistic_params *prm, const int8_t *input, int8_t *output);

#endif
