/* cumsum: running sums of int8 values along one axis (TFLM CUMSUM int8, ONNX CumSum). */
#ifndef ENN_CUMSUM_H
#define ENN_CUMSUM_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t before;           /* product of the extents before the axis */
    int32_t depth;            /* extent of the axis */
    int32_t after;            /* product of the extents after it */
    int32_t exclusive;        /* 1: each output sums the elements before it only */
    int32_t reverse;          /* 1: sums run from the end of the axis */
    int32_t left_shift;
    enn_quant input;          /* offset: -zero point; multiplier, shift (<= 0) of the rescaled input */
    int32_t accumulator_init; /* where every running sum starts */
    enn_quant output;         /* offset: zero point; multiplier, shift (<= 0) */
    enn_act act;
} enn_cumsum_params;

/* output must not overlap input. */
void enn_cumsum(const enn_cumsum_params *prm, const int8_t *input, int8_t *output);

#endif
