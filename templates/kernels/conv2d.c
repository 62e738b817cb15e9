/* conv2d: int8 2-D convolution, bit-exact with TFLM's reference_integer_ops::ConvPerChannel.
 *
 * Same arithmetic as TFLM (acc = sum filter * (input + input_offset), + bias, requantize, + output
 * offset, clamp), organised for speed: the range of filter taps that falls inside the input is
 * computed once per output row / column instead of testing every tap, and the inner loop over the
 * input channels of a group is unrolled by four. 1x1 stride-1 unpadded convolutions take a
 * matrix-multiply path. */
#include "conv2d.h"

#include "edgenn_fixedpoint.h"

/* First and one-past-last filter tap k with 0 <= origin + k * dilation < size. */
static void {{ kp }}conv2d_tap_range(int32_t origin, int32_t dilation, int32_t size, int32_t taps, int32_t *lo,
                                     int32_t *hi)
{
    int32_t l = 0;
    int32_t h = taps;
    if (origin < 0) {
        l = (-origin + dilation - 1) / dilation;
    }
    if (origin + (taps - 1) * dilation >= size) {
        h = size - origin > 0 ? (size - origin - 1) / dilation + 1 : 0;
    }
    if (h < l) {
        h = l;
    }
    *lo = l;
    *hi = h;
}

/* sum over n of w[i] * (x[i] + offset). */
static inline int32_t {{ kp }}conv2d_dot(const int8_t *x, const int8_t *w, int32_t n, int32_t offset)
{
    int32_t acc = 0;
    while (n >= 4) {
        acc += (int32_t)w[0] * ((int32_t)x[0] + offset);
        acc += (int32_t)w[1] * ((int32_t)x[1] + offset);
        acc += (int32_t)w[2] * ((int32_t)x[2] + offset);
        acc += (int32_t)w[3] * ((int32_t)x[3] + offset);
        x += 4;
        w += 4;
        n -= 4;
    }
    while (n > 0) {
        acc += (int32_t)*w++ * ((int32_t)*x++ + offset);
        n--;
    }
    return acc;
}

/* Two filters at once (w0 and w0 + w_stride): each input value feeds two multiply-accumulates. */
static inline void {{ kp }}conv2d_dot2(const int8_t *x, const int8_t *w0, int32_t w_stride, int32_t n, int32_t offset,
                                       int32_t *acc0, int32_t *acc1)
{
    const int8_t *w1 = w0 + w_stride;
    int32_t a0 = *acc0;
    int32_t a1 = *acc1;
    while (n >= 4) {
        const int32_t x0 = (int32_t)x[0] + offset;
        const int32_t x1 = (int32_t)x[1] + offset;
        const int32_t x2 = (int32_t)x[2] + offset;
        const int32_t x3 = (int32_t)x[3] + offset;
        a0 += (int32_t)w0[0] * x0;
        a1 += (int32_t)w1[0] * x0;
        a0 += (int32_t)w0[1] * x1;
        a1 += (int32_t)w1[1] * x1;
        a0 += (int32_t)w0[2] * x2;
        a1 += (int32_t)w1[2] * x2;
        a0 += (int32_t)w0[3] * x3;
        a1 += (int32_t)w1[3] * x3;
        x += 4;
        w0 += 4;
        w1 += 4;
        n -= 4;
    }
    while (n > 0) {
        const int32_t x0 = (int32_t)*x++ + offset;
        a0 += (int32_t)*w0++ * x0;
        a1 += (int32_t)*w1++ * x0;
        n--;
    }
    *acc0 = a0;
    *acc1 = a1;
}

static int8_t {{ kp }}conv2d_requant(const {{ kp }}conv2d_params *prm, int32_t acc, const int32_t *bias, int32_t oc)
{
    if (bias != 0) {
        /* int32 wrap-around as TFLM's accumulator (which is compiled without overflow checks). */
        acc = (int32_t)((uint32_t)acc + (uint32_t)bias[oc]);
    }
    acc = enn_mbqm(acc, prm->multiplier[oc], (int)prm->shift[oc]) + prm->output_offset;
    return (int8_t)enn_clamp(acc, prm->act_min, prm->act_max);
}

void {{ kp }}conv2d(const {{ kp }}conv2d_params *prm, const int8_t *input, const int8_t *filter,
                    const int32_t *bias, int8_t *output)
{
    const int32_t in_h = prm->input_h;
    const int32_t in_w = prm->input_w;
    const int32_t in_c = prm->input_c;
    const int32_t out_h = prm->output_h;
    const int32_t out_w = prm->output_w;
    const int32_t out_c = prm->output_c;
    const int32_t f_h = prm->filter_h;
    const int32_t f_w = prm->filter_w;
    const int32_t f_c = prm->filter_c;
    const int32_t groups = in_c / f_c;
    const int32_t per_group = out_c / groups;
    const int32_t offset = prm->input_offset;
    const int32_t filter_size = f_h * f_w * f_c;
    int32_t b;

    if (f_h == 1 && f_w == 1 && groups == 1 && prm->stride_h == 1 && prm->stride_w == 1 && prm->pad_top == 0 &&
        prm->pad_left == 0 && out_h == in_h && out_w == in_w) {
        /* 1x1, stride 1, no padding: every output pixel is a matrix-vector product. */
        const int32_t pixels = prm->batches * out_h * out_w;
        int32_t p;
        for (p = 0; p < pixels; p++) {
            const int8_t *x = input + p * in_c;
            const int8_t *w = filter;
            int32_t oc = 0;
            for (; oc + 2 <= out_c; oc += 2) {
                int32_t acc0 = 0;
                int32_t acc1 = 0;
                {{ kp }}conv2d_dot2(x, w, in_c, in_c, offset, &acc0, &acc1);
                *output++ = {{ kp }}conv2d_requant(prm, acc0, bias, oc);
                *output++ = {{ kp }}conv2d_requant(prm, acc1, bias, oc + 1);
                w += 2 * in_c;
            }
            if (oc < out_c) {
                *output++ = {{ kp }}conv2d_requant(prm, {{ kp }}conv2d_dot(x, w, in_c, offset), bias, oc);
            }
        }
        return;
    }

    for (b = 0; b < prm->batches; b++) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        int32_t oy;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * prm->stride_h - prm->pad_top;
            int32_t ky_lo;
            int32_t ky_hi;
            int32_t ox;
            {{ kp }}conv2d_tap_range(iy0, prm->dilation_h, in_h, f_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * prm->stride_w - prm->pad_left;
                int32_t kx_lo;
                int32_t kx_hi;
                int32_t g;
                int32_t oc = 0;
                {{ kp }}conv2d_tap_range(ix0, prm->dilation_w, in_w, f_w, &kx_lo, &kx_hi);
                {
                    /* First valid tap of the window, in the input and in a filter. */
                    const int32_t n_ky = ky_hi - ky_lo;
                    const int32_t n_kx = kx_hi - kx_lo;
                    const int8_t *in_px = n_ky > 0 && n_kx > 0
                        ? in_b + ((iy0 + ky_lo * prm->dilation_h) * in_w + ix0 + kx_lo * prm->dilation_w) * in_c
                        : in_b;
                    const int32_t w_first = n_ky > 0 && n_kx > 0 ? (ky_lo * f_w + kx_lo) * f_c : 0;
                    const int32_t row_step = prm->dilation_h * in_w * in_c;
                    const int32_t col_step = prm->dilation_w * in_c;
                    /* Taps of a filter row are contiguous in the input too: one dot product per row. */
                    const int32_t run = col_step == f_c ? n_kx * f_c : 0;
                    for (g = 0; g < groups; g++) {
                        const int8_t *in_g = in_px + g * f_c;
                        int32_t f = 0;
                        /* Filters in pairs: every input value loaded feeds two multiply-accumulates. */
                        for (; f + 2 <= per_group; f += 2, oc += 2) {
                            const int8_t *w_row = filter + oc * filter_size + w_first;
                            const int8_t *x_row = in_g;
                            int32_t acc0 = 0;
                            int32_t acc1 = 0;
                            int32_t ky;
                            for (ky = 0; ky < n_ky; ky++) {
                                if (run > 0) {
                                    {{ kp }}conv2d_dot2(x_row, w_row, filter_size, run, offset, &acc0, &acc1);
                                } else {
                                    const int8_t *x = x_row;
                                    const int8_t *w = w_row;
                                    int32_t kx;
                                    for (kx = 0; kx < n_kx; kx++) {
                                        {{ kp }}conv2d_dot2(x, w, filter_size, f_c, offset, &acc0, &acc1);
                                        x += col_step;
                                        w += f_c;
                                    }
                                }
                                x_row += row_step;
                                w_row += f_w * f_c;
                            }
                            *output++ = {{ kp }}conv2d_requant(prm, acc0, bias, oc);
                            *output++ = {{ kp }}conv2d_requant(prm, acc1, bias, oc + 1);
                        }
                        if (f < per_group) {
                            const int8_t *w_row = filter + oc * filter_size + w_first;
                            const int8_t *x_row = in_g;
                            int32_t acc = 0;
                            int32_t ky;
                            for (ky = 0; ky < n_ky; ky++) {
                                if (run > 0) {
                                    acc += {{ kp }}conv2d_dot(x_row, w_row, run, offset);
                                } else {
                                    const int8_t *x = x_row;
                                    const int8_t *w = w_row;
                                    int32_t kx;
                                    for (kx = 0; kx < n_kx; kx++) {
                                        acc += {{ kp }}conv2d_dot(x, w, f_c, offset);
                                        x += col_step;
                                        w += f_c;
                                    }
                                }
                                x_row += row_step;
                                w_row += f_w * f_c;
                            }
                            *output++ = {{ kp }}conv2d_requant(prm, acc, bias, oc);
                            oc++;
                        }
                    }
                }
            }
        }
    }
}
