/* l2_normalization: x / ||x||_2 over the last axis, in units of 1/128 (TFLM L2_NORMALIZATION int8). */
#ifndef ENN_L2_NORMALIZATION_H
#define ENN_L2_NORMALIZATION_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t rows;             /* product of all extents but the last */
    int32_t depth;            /* extent of the last axis */
    int32_t input_zero_point;
} enn_l2_normalization_params;

/* output may alias input (each row is summed first, then written in increasing address order). */
void enn_l2_normalization(const enn_l2_normalization_params *prm, const int8_t *input, int8_t *output);

#endif
