/* prelu: int8 parametric ReLU with alpha broadcast against the input (TFLM
 * reference_ops::BroadcastPrelu4DSlow semantics). */
#ifndef ENN_PRELU_H
#define ENN_PRELU_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_PRELU_MAX_DIMS 6

typedef struct {
    int32_t input_offset; /* -input zero point */
    int32_t alpha_offset; /* -alpha zero point */
    int32_t output_offset;
    int32_t identity_multiplier; /* x >= 0: s_in / s_out */
    int32_t identity_shift;
    int32_t alpha_multiplier; /* x < 0: s_in * s_alpha / s_out, applied to x * alpha */
    int32_t alpha_shift;
    /* Shapes right-aligned to 6 axes (leading 1s); each input axis is the output's or 1. */
    int32_t in_shape[ENN_PRELU_MAX_DIMS];
    int32_t alpha_shape[ENN_PRELU_MAX_DIMS];
    int32_t out_shape[ENN_PRELU_MAX_DIMS];
} enn_prelu_params;

/* output may alias the input. */
void enn_prelu(const enn_prelu_params *prm, const int8_t *input, const int8_t *alpha, int8_t *output);

#endif
