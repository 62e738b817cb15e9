/* leaky_relu: int8 leaky ReLU (TFLM reference_ops::QuantizeLeakyRelu semantics). */
#ifndef {{ kp|upper }}LEAKY_RELU_H
#define {{ kp|upper }}LEAKY_RELU_H

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier_alpha; /* negative for a negative alpha (never INT32_MIN) */
    int32_t output_shift_alpha;
    int32_t output_multiplier_identity;
    int32_t output_shift_identity;
} {{ kp }}leaky_relu_params;

/* output may alias input. */
void {{ kp }}leaky_relu(const {{ kp }}leaky_relu_params *prm, const int8_t *input, int8_t *output);

#endif
