/* tile: repeat an int8 tensor along its axes, broadcasting included (TFLM BroadcastTo; ONNX Expand, Tile). */
#ifndef ENN_TILE_H
#define ENN_TILE_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_copy.h"

typedef struct {
    /* Right-aligned to ENN_COPY_MAX_DIMS axes with leading 1s; every out_shape[d] is a multiple of in_shape[d]. */
    int32_t in_shape[ENN_COPY_MAX_DIMS];
    int32_t out_shape[ENN_COPY_MAX_DIMS];
} enn_tile_params;

/* output must not overlap input. */
void enn_tile(const enn_tile_params *prm, const int8_t *input, int8_t *output);

#endif
