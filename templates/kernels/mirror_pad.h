/* mirror_pad: mirrored padding of an int8 tensor of rank <= 6 (TFLM MirrorPad; ONNX Pad reflect / edge). */
#ifndef ENN_MIRROR_PAD_H
#define ENN_MIRROR_PAD_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_copy.h"

#define ENN_MIRROR_REFLECT 0   /* the edge element is not repeated */
#define ENN_MIRROR_SYMMETRIC 1 /* the edge element is repeated */
#define ENN_MIRROR_EDGE 2      /* the edge element fills the padding */

typedef struct {
    /* Right-aligned to ENN_COPY_MAX_DIMS axes (leading 1s, no padding). */
    int32_t in_shape[ENN_COPY_MAX_DIMS];
    int32_t out_shape[ENN_COPY_MAX_DIMS];
    int32_t before[ENN_COPY_MAX_DIMS]; /* padding before each axis */
    int32_t mode;                      /* ENN_MIRROR_* */
} enn_mirror_pad_params;

/* output must not overlap input. */
void enn_mirror_pad(const enn_mirror_pad_params *prm, const int8_t *input, int8_t *output);

#endif
