/* resize_bilinear: int8 bilinear resize of H and W (TFLM ResizeBilinearInteger), on per-axis tables.
 *
 * Output pixel (i, j), channel c: sum over the source rows y0[i] (weight 1024 - fy[i]) and y1[i]
 * (weight fy[i]) and the source columns x0[j] (1024 - fx[j]) and x1[j] (fx[j]) of input * weights,
 * rounded half away from zero from 1/2^20. The output keeps the input's quantization. */
#ifndef ENN_RESIZE_BILINEAR_H
#define ENN_RESIZE_BILINEAR_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    enn_dims input;   /* n, h, w, c */
    enn_dims output;  /* n, h, w, c (n and c as the input's) */
    const int32_t *y0; /* [output.h] each */
    const int32_t *y1;
    const int32_t *fy;
    const int32_t *x0; /* [output.w] each */
    const int32_t *x1;
    const int32_t *fx;
} enn_resize_bilinear_params;

/* input: [n][input.h][input.w][c]; output: [n][output.h][output.w][c]; they must not overlap. */
void enn_resize_bilinear(const enn_resize_bilinear_params *prm, const int8_t *input, int8_t *output);

#endif
