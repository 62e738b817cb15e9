/* max_pool2d: int8 max pooling over NHWC (TFLM reference_integer_ops::MaxPool semantics). */
#ifndef ENN_MAX_POOL2D_H
#define ENN_MAX_POOL2D_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    enn_dims input;  /* n, h, w, c */
    enn_dims output; /* n, h, w, c (= input's n and c) */
    enn_geom2d geom; /* filter, stride, padding (top, left); dilation 1; out-of-bounds taps are skipped */
    enn_act act;
} enn_max_pool2d_params;

void enn_max_pool2d(const enn_max_pool2d_params *prm, const int8_t *input, int8_t *output);

#endif
