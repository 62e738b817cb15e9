/* Helpers of the data-movement kernels (slice, tile, mirror_pad, split, gather): shapes
 * right-aligned to ENN_COPY_MAX_DIMS axes with leading 1s, an odometer over the outer axes, and a
 * byte copy that does nothing when source and destination coincide (an output the memory planner
 * placed on its bytes of the input: a view). */
#ifndef EDGENN_COPY_H
#define EDGENN_COPY_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_COPY_MAX_DIMS 6

/* Element strides of a right-aligned shape. */
static inline void enn_copy_strides(const int32_t *shape, int32_t *stride)
{
    int32_t acc = 1;
    int d;
    for (d = ENN_COPY_MAX_DIMS - 1; d >= 0; d--) {
        stride[d] = acc;
        acc *= shape[d];
    }
}

/* Advances idx over axes 0 .. ENN_COPY_MAX_DIMS - 2 of shape (the innermost axis is the caller's
 * row); returns 0 once every position has been visited. */
static inline int enn_copy_next(int32_t *idx, const int32_t *shape)
{
    int d;
    for (d = ENN_COPY_MAX_DIMS - 2; d >= 0; d--) {
        if (++idx[d] < shape[d]) {
            return 1;
        }
        idx[d] = 0;
    }
    return 0;
}

static inline void enn_copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i;
    if (dst == src) {
        return;
    }
    for (i = 0; i < n; i++) {
        dst[i] = src[i];
    }
}

#endif
