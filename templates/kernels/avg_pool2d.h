/* avg_pool2d: int8 average pooling over NHWC (TFLM reference_integer_ops::AveragePool semantics). */
#ifndef {{ kp|upper }}AVG_POOL2D_H
#define {{ kp|upper }}AVG_POOL2D_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h;
    int32_t in_w;
    int32_t depth;
    int32_t out_h;
    int32_t out_w;
    int32_t filter_h;
    int32_t filter_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t pad_top;  /* windows start at out * stride - pad; out-of-bounds taps are not counted */
    int32_t pad_left;
    int32_t act_min;
    int32_t act_max;
} {{ kp }}avg_pool2d_params;

void {{ kp }}avg_pool2d(const {{ kp }}avg_pool2d_params *prm, const int8_t *input, int8_t *output);

#endif
