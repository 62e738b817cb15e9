/* transpose_conv: int8 transposed convolution (NHWC), per-channel requantization (TFLM semantics). */
#ifndef ENN_TRANSPOSE_CONV_H
#define ENN_TRANSPOSE_CONV_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    enn_dims input;        /* n, h, w, c */
    enn_dims output;       /* n (= input.n), h, w, c */
    enn_geom2d geom;       /* filter, stride, dilation (1), padding (top, left) */
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    enn_act act;
    enn_pc_quant quant;    /* [output.c] each (rshift unused) */
} enn_transpose_conv_params;

/* input: [n][input.h][input.w][input.c]; filter: [output.c][filter.h][filter.w][input.c];
 * bias: [output.c] or NULL; output: [n][output.h][output.w][output.c], not overlapping the input.
 * Input pixel (iy, ix) reaches output pixel (iy * stride.h - padding.h + ky, ix * stride.w - padding.w + kx). */
void enn_transpose_conv(const enn_transpose_conv_params *prm, const int8_t *input, const int8_t *filter,
                        const int32_t *bias, int8_t *output);

#endif
