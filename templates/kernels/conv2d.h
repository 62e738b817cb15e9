/* conv2d: int8 2-D convolution (NHWC), per-channel requantization, optional groups (TFLM semantics). */
#ifndef ENN_CONV2D_H
#define ENN_CONV2D_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    enn_dims input;         /* n, h, w, c */
    enn_dims output;        /* n (= input.n), h, w, c */
    enn_geom2d geom;        /* filter, stride, dilation, padding (top, left) */
    int32_t filter_c;       /* input.c / groups */
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;  /* output zero point */
    enn_act act;
    enn_pc_quant quant;     /* [output.c] each */
    const int32_t *ksum;    /* [output.c] sum of each filter (Helium builds), or NULL */
    const int32_t *mq;      /* folded biases, multipliers, shifts: per four output channels (Helium builds,
                             * conv2d.c conv2d_run4_mve; codegen/helium.py), per eight (AArch64 NEON,
                             * edgenn_neon.h enn_gemm2_neon; codegen/neon.py), or NULL */
#if defined(__aarch64__)
    const int8_t *wp;       /* the filters packed per eight (AArch64 NEON, edgenn_neon.h enn_gemm2_neon;
                             * codegen/neon.py), or NULL (left out of the initializer) */
#endif
    const uint32_t *wx;     /* the filters as int16 pairs, two filters interleaved (DSP builds for speed,
                             * conv2d.c conv2d_pairs_asm), or NULL */
    int32_t no_min;         /* 1: no weight of the filter is -128 (NEON: two products fit an int16) */
} enn_conv2d_params;

/* input: [n][input.h][input.w][input.c]; filter: [output.c][filter.h][filter.w][filter_c];
 * bias: [output.c] or NULL; output: [n][output.h][output.w][output.c].
 * Taps outside the input are skipped (implicit padding with the input zero point). */
void enn_conv2d(const enn_conv2d_params *prm, const int8_t *input, const int8_t *filter, const int32_t *bias,
                int8_t *output);

#endif
