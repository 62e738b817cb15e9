/* compare: int8 comparisons with broadcasting, one byte 0 / 1 per output (TFLM EQUAL, NOT_EQUAL,
 * LESS, LESS_EQUAL, GREATER, GREATER_EQUAL with int8 inputs: ComparisonWithScaling semantics). */
#ifndef ENN_COMPARE_H
#define ENN_COMPARE_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

#define ENN_COMPARE_MAX_DIMS 6

/* The comparisons, as numbered in the schema's CompareKind. */
#define ENN_COMPARE_EQUAL 0
#define ENN_COMPARE_NOT_EQUAL 1
#define ENN_COMPARE_LESS 2
#define ENN_COMPARE_LESS_EQUAL 3
#define ENN_COMPARE_GREATER 4
#define ENN_COMPARE_GREATER_EQUAL 5

typedef struct {
    int32_t kind; /* ENN_COMPARE_* */
    int32_t left_shift;
    enn_quant input1; /* offset: -zero point; multiplier, shift: the rescaling (shift <= 0) */
    enn_quant input2;
    /* Shapes right-aligned to 6 axes (leading 1s); each input axis is the output's or 1. */
    int32_t in1_shape[ENN_COMPARE_MAX_DIMS];
    int32_t in2_shape[ENN_COMPARE_MAX_DIMS];
    int32_t out_shape[ENN_COMPARE_MAX_DIMS];
} enn_compare_params;

/* output: one byte per element, 1 where the comparison holds, else 0; it may alias an input of
 * the output's shape. */
void enn_compare(const enn_compare_params *prm, const int8_t *input1, const int8_t *input2, uint8_t *output);

#endif
