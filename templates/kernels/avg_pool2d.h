/* avg_pool2d: int8 average pooling over NHWC (TFLM reference_integer_ops::AveragePool semantics). */
#ifndef ENN_AVG_POOL2D_H
#define ENN_AVG_POOL2D_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    enn_dims input;  /* n, h, w, c */
    enn_dims output; /* n, h, w, c (= input's n and c) */
    enn_geom2d geom; /* filter, stride, padding (top, left); dilation 1; out-of-bounds taps are not counted */
    enn_act act;
} enn_avg_pool2d_params;

void enn_avg_pool2d(const enn_avg_pool2d_params *prm, const int8_t *input, int8_t *output);

#endif
