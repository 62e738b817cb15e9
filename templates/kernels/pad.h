/* pad: constant padding of an int8 tensor of rank <= 5 (TFLM reference_ops::Pad semantics). */
#ifndef ENN_PAD_H
#define ENN_PAD_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_PAD_MAX_DIMS 5

typedef struct {
    /* Right-aligned to ENN_PAD_MAX_DIMS axes (leading 1s, no padding). */
    int32_t in_shape[ENN_PAD_MAX_DIMS];
    int32_t out_shape[ENN_PAD_MAX_DIMS];
    int32_t before[ENN_PAD_MAX_DIMS]; /* padding before each axis */
    int32_t pad_value;
} enn_pad_params;

/* output must not overlap input. */
void enn_pad(const enn_pad_params *prm, const int8_t *input, int8_t *output);

#endif
