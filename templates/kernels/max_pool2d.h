/* max_pool2d: int8 max pooling over NHWC (TFLM reference_integer_ops::MaxPool semantics). */
#ifndef {{ kp|upper }}MAX_POOL2D_H
#define {{ kp|upper }}MAX_POOL2D_H

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
    int32_t pad_top;  /* windows start at out * stride - pad; out-of-bounds taps are skipped */
    int32_t pad_left;
    int32_t act_min;
    int32_t act_max;
} {{ kp }}max_pool2d_params;

void {{ kp }}max_pool2d(const {{ kp }}max_pool2d_params *prm, const int8_t *input, int8_t *output);

#endif
