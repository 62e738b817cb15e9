/* depthwise_conv2d: int8 depthwise convolution (NHWC), per-channel requantization (TFLM semantics). */
#ifndef ENN_DEPTHWISE_CONV2D_H
#define ENN_DEPTHWISE_CONV2D_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    enn_dims input;           /* n, h, w, c */
    enn_dims output;          /* n (= input.n), h, w, c = input.c * depth_multiplier */
    enn_geom2d geom;          /* filter, stride, dilation, padding (top, left) */
    int32_t depth_multiplier;
    int32_t input_offset;     /* -input zero point */
    int32_t output_offset;    /* output zero point */
    enn_act act;
    enn_pc_quant quant;       /* [output.c] each */
    const int32_t *mq;        /* 3x3, depth multiplier 1: per sixteen channels, folded biases, the filter and
                               * the requantization (Helium builds, depthwise_conv2d.c dw3_mve;
                               * codegen/helium.py), or NULL */
    const int32_t *kb;        /* 3x3, depth multiplier 1, no weight -128: the biases with input_offset * sum(filter)
                               * folded in (NEON builds, edgenn_neon.h enn_dw3_pairs_neon; codegen/folded.py), or NULL */
} enn_depthwise_conv2d_params;

/* input: [n][input.h][input.w][input.c]; filter: [1][filter.h][filter.w][output.c];
 * bias: [output.c] or NULL; output: [n][output.h][output.w][output.c].
 * Output channel c * depth_multiplier + m reads input channel c. Taps outside the input are skipped. */
void enn_depthwise_conv2d(const enn_depthwise_conv2d_params *prm, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, int8_t *output);

#endif
