/* resize_nearest: int8 nearest-neighbour resize of H and W (TFLM ResizeNearestNeighbor): output
 * pixel (i, j) is input pixel (in_y[i], in_x[j]); the converter computes the tables. */
#ifndef ENN_RESIZE_NEAREST_H
#define ENN_RESIZE_NEAREST_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    enn_dims input;      /* n, h, w, c */
    enn_dims output;     /* n, h, w, c (n and c as the input's) */
    const int32_t *in_y; /* [output.h] */
    const int32_t *in_x; /* [output.w] */
} enn_resize_nearest_params;

/* input: [n][input.h][input.w][c]; output: [n][output.h][output.w][c]; they must not overlap. */
void enn_resize_nearest(const enn_resize_nearest_params *prm, const int8_t *input, int8_t *output);

#endif
