/* log_softmax: int8 log-softmax over the last axis (TFLM reference_ops::LogSoftmax<int8_t> semantics).
 * Output scale 16/256, zero point 127. */
#ifndef ENN_LOG_SOFTMAX_H
#define ENN_LOG_SOFTMAX_H

#include "edgenn_prefix.h"

#include <stdint.h>

typedef struct {
    int32_t rows;
    int32_t depth; /* 1..4095 */
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t reverse_scaling_divisor;
    int32_t reverse_scaling_right_shift;
    int32_t diff_min;
} enn_log_softmax_params;

/* output may alias input. */
void enn_log_softmax(const enn_log_softmax_params *prm, const int8_t *input, int8_t *output);

#endif
