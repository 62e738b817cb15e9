/* softmax: int8 softmax over the last axis (TFLM reference_ops::Softmax<int8_t, int8_t> semantics).
 * Output scale 1/256, zero point -128. */
#ifndef ENN_SOFTMAX_H
#define ENN_SOFTMAX_H

#include "edgenn_prefix.h"

#include <stdint.h>

typedef struct {
    int32_t rows;
    int32_t depth; /* 1..4095 */
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
    int32_t output_int16; /* int16 output (scale 1/65536, zero point -32768), else int8 */
} enn_softmax_params;

void enn_softmax(const enn_softmax_params *prm, const int8_t *input, void *output);

#endif
