/* maximum_minimum: the larger or smaller of two int8 tensors, with broadcasting (TFLM MAXIMUM /
 * MINIMUM semantics: raw values compared, inputs and output quantized alike). */
#ifndef ENN_MAXIMUM_MINIMUM_H
#define ENN_MAXIMUM_MINIMUM_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_MAXIMUM_MINIMUM_MAX_DIMS 6

typedef struct {
    int32_t is_maximum; /* 1: maximum, 0: minimum */
    /* Shapes right-aligned to 6 axes (leading 1s); each input axis is the output's or 1. */
    int32_t in1_shape[ENN_MAXIMUM_MINIMUM_MAX_DIMS];
    int32_t in2_shape[ENN_MAXIMUM_MINIMUM_MAX_DIMS];
    int32_t out_shape[ENN_MAXIMUM_MINIMUM_MAX_DIMS];
} enn_maximum_minimum_params;

/* output may alias an input of the output's shape. */
void enn_maximum_minimum(const enn_maximum_minimum_params *prm, const int8_t *input1, const int8_t *input2,
                         int8_t *output);

#endif
