/* slice: a strided slice of an int8 tensor of rank <= 6 (TFLM reference_ops::Slice / StridedSlice). */
#ifndef ENN_SLICE_H
#define ENN_SLICE_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_copy.h"

typedef struct {
    /* Right-aligned to ENN_COPY_MAX_DIMS axes (leading axes: extent 1, begin 0, size 1). */
    int32_t in_shape[ENN_COPY_MAX_DIMS];
    int32_t begin[ENN_COPY_MAX_DIMS];  /* first input index of each axis */
    int32_t stride[ENN_COPY_MAX_DIMS]; /* step between input indices (non-zero, may be negative) */
    int32_t size[ENN_COPY_MAX_DIMS];   /* elements taken along each axis */
} enn_slice_params;

/* output must not overlap input, except when it is exactly its contiguous range of the input
 * (then nothing is copied). */
void enn_slice(const enn_slice_params *prm, const int8_t *input, int8_t *output);

#endif
