/* conv2d: int8 2-D convolution (NHWC), per-channel requantization, optional groups (TFLM semantics). */
#ifndef {{ kp|upper }}CONV2D_H
#define {{ kp|upper }}CONV2D_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t input_h, input_w, input_c;
    int32_t output_h, output_w, output_c;
    int32_t filter_h, filter_w, filter_c; /* filter_c = input_c / groups */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left; /* bottom/right padding follows from the output size */
    int32_t input_offset;      /* -input zero point */
    int32_t output_offset;     /* output zero point */
    int32_t act_min, act_max;
    const int32_t *multiplier; /* [output_c] */
    const int32_t *shift;      /* [output_c], > 0: left */
    const uint8_t *rshift;     /* [output_c], clamp(-shift, 1, 31) - 1: see enn_rq_r */
    const int32_t *ksum;       /* [output_c] sum of each filter (Helium builds), or NULL */
} {{ kp }}conv2d_params;

/* input: [batches][input_h][input_w][input_c]; filter: [output_c][filter_h][filter_w][filter_c];
 * bias: [output_c] or NULL; output: [batches][output_h][output_w][output_c].
 * Taps outside the input are skipped (implicit padding with the input zero point). */
void {{ kp }}conv2d(const {{ kp }}conv2d_params *prm, const int8_t *input, const int8_t *filter,
                    const int32_t *bias, int8_t *output);

#endif
