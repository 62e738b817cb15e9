/* select: output = condition ? x : y with broadcasting of all three (TFLM SELECT_V2 semantics: bytes
 * copied as they are; x, y and the output quantized alike). */
#ifndef ENN_SELECT_H
#define ENN_SELECT_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_SELECT_MAX_DIMS 6

typedef struct {
    /* Shapes right-aligned to 6 axes (leading 1s); each input axis is the output's or 1. */
    int32_t condition_shape[ENN_SELECT_MAX_DIMS];
    int32_t x_shape[ENN_SELECT_MAX_DIMS];
    int32_t y_shape[ENN_SELECT_MAX_DIMS];
    int32_t out_shape[ENN_SELECT_MAX_DIMS];
} enn_select_params;

/* condition: one byte per element, nonzero = true. output may alias an input of its shape. */
void enn_select(const enn_select_params *prm, const uint8_t *condition, const int8_t *x, const int8_t *y,
                int8_t *output);

#endif
