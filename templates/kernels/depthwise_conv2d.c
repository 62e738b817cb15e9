/* depthwise_conv2d: int8 depthwise convolution, bit-exact with TFLM's
 * reference_integer_ops::DepthwiseConvPerChannel.
 *
 * Same arithmetic as TFLM; the range of taps inside the input is computed once per output row /
 * column, and with depth_multiplier 1 four channels are accumulated together so that every input
 * and filter byte loaded feeds a multiply-accumulate with little loop overhead. */
#include "depthwise_conv2d.h"

#include "edgenn_fixedpoint.h"

/* First and one-past-last filter tap k with 0 <= origin + k * dilation < size. */
static void {{ kp }}dw_tap_range(int32_t origin, int32_t dilation, int32_t size, int32_t taps, int32_t *lo, int32_t *hi)
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

static int8_t {{ kp }}dw_requant(const {{ kp }}depthwise_conv2d_params *prm, int32_t acc, const int32_t *bias,
                                 int32_t oc)
{
    if (bias != 0) {
        /* int32 wrap-around as TFLM's accumulator (which is compiled without overflow checks). */
        acc = (int32_t)((uint32_t)acc + (uint32_t)bias[oc]);
    }
    acc = enn_mbqm(acc, prm->multiplier[oc], (int)prm->shift[oc]) + prm->output_offset;
    return (int8_t)enn_clamp(acc, prm->act_min, prm->act_max);
}

void {{ kp }}depthwise_conv2d(const {{ kp }}depthwise_conv2d_params *prm, const int8_t *input, const int8_t *filter,
                              const int32_t *bias, int8_t *output)
{
    const int32_t in_h = prm->input_h;
    const int32_t in_w = prm->input_w;
    const int32_t in_c = prm->input_c;
    const int32_t out_h = prm->output_h;
    const int32_t out_w = prm->output_w;
    const int32_t out_c = prm->output_c;
    const int32_t f_w = prm->filter_w;
    const int32_t mult = prm->depth_multiplier;
    const int32_t offset = prm->input_offset;
    const int32_t row_step = prm->dilation_h * in_w * in_c; /* input: next filter row */
    const int32_t col_step = prm->dilation_w * in_c;        /* input: next filter column */
    const int32_t w_row_step = f_w * out_c;                 /* filter: next row */
    int32_t b;

    for (b = 0; b < prm->batches; b++) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        int32_t oy;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * prm->stride_h - prm->pad_top;
            int32_t ky_lo;
            int32_t ky_hi;
            int32_t ox;
            {{ kp }}dw_tap_range(iy0, prm->dilation_h, in_h, prm->filter_h, &ky_lo, &ky_hi);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * prm->stride_w - prm->pad_left;
                int32_t kx_lo;
                int32_t kx_hi;
                int32_t n_ky;
                int32_t n_kx;
                const int8_t *in_px;
                const int8_t *w_px;
                int32_t oc = 0;
                {{ kp }}dw_tap_range(ix0, prm->dilation_w, in_w, f_w, &kx_lo, &kx_hi);
                n_ky = ky_hi - ky_lo;
                n_kx = kx_hi - kx_lo;
                /* First valid tap of the window, in the input and in the filter. */
                in_px = n_ky > 0 && n_kx > 0
                    ? in_b + ((iy0 + ky_lo * prm->dilation_h) * in_w + ix0 + kx_lo * prm->dilation_w) * in_c
                    : in_b;
                w_px = n_ky > 0 && n_kx > 0 ? filter + (ky_lo * f_w + kx_lo) * out_c : filter;
                if (mult == 1) {
                    /* Four channels at a time: input channel == output channel. */
                    for (; oc + 4 <= out_c; oc += 4) {
                        const int8_t *x_row = in_px + oc;
                        const int8_t *w_row = w_px + oc;
                        int32_t acc0 = 0;
                        int32_t acc1 = 0;
                        int32_t acc2 = 0;
                        int32_t acc3 = 0;
                        int32_t ky;
                        for (ky = 0; ky < n_ky; ky++) {
                            const int8_t *x = x_row;
                            const int8_t *w = w_row;
                            int32_t kx;
                            for (kx = 0; kx < n_kx; kx++) {
                                acc0 += (int32_t)w[0] * ((int32_t)x[0] + offset);
                                acc1 += (int32_t)w[1] * ((int32_t)x[1] + offset);
                                acc2 += (int32_t)w[2] * ((int32_t)x[2] + offset);
                                acc3 += (int32_t)w[3] * ((int32_t)x[3] + offset);
                                x += col_step;
                                w += out_c;
                            }
                            x_row += row_step;
                            w_row += w_row_step;
                        }
                        *output++ = {{ kp }}dw_requant(prm, acc0, bias, oc);
                        *output++ = {{ kp }}dw_requant(prm, acc1, bias, oc + 1);
                        *output++ = {{ kp }}dw_requant(prm, acc2, bias, oc + 2);
                        *output++ = {{ kp }}dw_requant(prm, acc3, bias, oc + 3);
                    }
                }
                for (; oc < out_c; oc++) {
                    const int8_t *x_row = in_px + oc / mult;
                    const int8_t *w_row = w_px + oc;
                    int32_t acc = 0;
                    int32_t ky;
                    for (ky = 0; ky < n_ky; ky++) {
                        const int8_t *x = x_row;
                        const int8_t *w = w_row;
                        int32_t kx;
                        for (kx = 0; kx < n_kx; kx++) {
                            acc += (int32_t)*w * ((int32_t)*x + offset);
                            x += col_step;
                            w += out_c;
                        }
                        x_row += row_step;
                        w_row += w_row_step;
                    }
                    *output++ = {{ kp }}dw_requant(prm, acc, bias, oc);
                }
            }
        }
    }
}
