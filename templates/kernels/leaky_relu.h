/* leaky_relu: int8 leaky ReLU (TFLM reference_ops::QuantizeLeakyRelu semantics). */
#ifndef ENN_LEAKY_RELU_H
#define ENN_LEAKY_RELU_H

#include "edgenn_prefix.h"

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t output_multiplier_alpha; /* negative for a negative alpha (never INT32_MIN) */
    int32_t output_shift_alpha;
    int32_t output_multiplier_identity;
    int32_t output_shift_identity;
} enn_leaky_relu_params;

/* output may alias input. */
void enn_leaky_relu(const enn_leaky_relu_params *prm, const int8_t *input, int8_t *output);

#endif
