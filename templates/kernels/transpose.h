/* transpose: permutation of the axes of an int8 tensor of rank <= 6 (TFLM reference_ops::Transpose). */
#ifndef ENN_TRANSPOSE_H
#define ENN_TRANSPOSE_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_TRANSPOSE_MAX_DIMS 6

typedef struct {
    /* Right-aligned to ENN_TRANSPOSE_MAX_DIMS axes: leading 1s, perm extended by identity. */
    int32_t in_shape[ENN_TRANSPOSE_MAX_DIMS];
    int32_t perm[ENN_TRANSPOSE_MAX_DIMS]; /* output axis d is input axis perm[d] */
} enn_transpose_params;

/* output must not overlap input. */
void enn_transpose(const enn_transpose_params *prm, const int8_t *input, int8_t *output);

#endif
