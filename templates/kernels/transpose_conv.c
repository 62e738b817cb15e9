/* transpose_conv: bit-exact with TFLM's reference_integer_ops::TransposeConv.
 *
 * TFLM scatters every input pixel into an int32 buffer of the whole output (output size * 4 bytes
 * of arena) and requantizes afterwards. This kernel gathers instead: for each output pixel, the
 * taps that reach it are those with ky = (oy + pad_top) mod stride_h + k * stride_h (input row
 * iy = (oy + pad_top - ky) / stride_h inside the input), likewise for columns; their products are
 * summed in int32 with wrap-around, which equals TFLM's sum modulo 2^32 in any order, then the bias
 * is added and the sum requantized per channel (enn_mbqm), offset and clamped. No working memory;
 * output pixels are written in memory order. Four filters at a time share each input load
 * (enn_dot4: SMLAD on the DSP extension, VMLADAVA on Helium, plain C elsewhere). */
#include "transpose_conv.h"

#include "edgenn_fixedpoint.h"
#include "edgenn_simd.h"

/* A call's parameters, read once (byte stores to the output could alias the struct). */
typedef struct {
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
    int32_t in_h, in_w, in_c, out_c, k_h, k_w, s_h, s_w, pad_h, pad_w;
    int32_t filter_size, offset, out_offset, lo, hi;
} tconv_ctx;

static int8_t tconv_out(const tconv_ctx *c, int32_t acc, int32_t oc)
{
    return enn_out8(enn_mbqm(acc, c->mult[oc], (int)c->shift[oc]), c->out_offset, c->lo, c->hi, 0);
}

/* a[j] += the sum over the taps that reach output pixel (oy, ox) of filter oc + j times the input pixel
 * under the tap (plus the offset), for the four filters j = 0..3 (four) or filter oc alone (a[0]). */
static inline void tconv_taps(const tconv_ctx *c, const int8_t *image, int32_t oy, int32_t ox, int32_t oc, int four,
                              int32_t *a)
{
    const int8_t *w_oc = c->filter + oc * c->filter_size;
    const int32_t row = c->in_w * c->in_c;
    int32_t ky;
    for (ky = (oy + c->pad_h) % c->s_h; ky < c->k_h; ky += c->s_h) {
        const int32_t iy = (oy + c->pad_h - ky) / c->s_h; /* exact: ky = oy + pad_h (mod s_h) */
        int32_t kx;
        if (iy < 0) {
            break; /* iy decreases as ky grows */
        }
        if (iy >= c->in_h) {
            continue;
        }
        for (kx = (ox + c->pad_w) % c->s_w; kx < c->k_w; kx += c->s_w) {
            const int32_t ix = (ox + c->pad_w - kx) / c->s_w;
            const int8_t *x;
            const int8_t *w;
            if (ix < 0) {
                break;
            }
            if (ix >= c->in_w) {
                continue;
            }
            x = image + iy * row + ix * c->in_c;
            w = w_oc + (ky * c->k_w + kx) * c->in_c;
            if (four) {
                enn_dot4(x, w, c->filter_size, c->in_c, c->offset, &a[0], &a[1], &a[2], &a[3]);
            } else {
                a[0] = (int32_t)((uint32_t)a[0] + enn_dot1(x, w, c->in_c, c->offset));
            }
        }
    }
}

/* Every output channel of output pixel (oy, ox) of one image. */
static void tconv_pixel(const tconv_ctx *c, const int8_t *image, int32_t oy, int32_t ox, int8_t *out)
{
    int32_t oc = 0;
    for (; oc + 4 <= c->out_c; oc += 4) {
        int32_t a[4] = {0, 0, 0, 0};
        int32_t j;
        if (c->bias != 0) {
            for (j = 0; j < 4; j++) {
                a[j] = c->bias[oc + j];
            }
        }
        tconv_taps(c, image, oy, ox, oc, 1, a);
        for (j = 0; j < 4; j++) {
            out[oc + j] = tconv_out(c, a[j], oc + j);
        }
    }
    for (; oc < c->out_c; oc++) {
        int32_t a = c->bias != 0 ? c->bias[oc] : 0;
        tconv_taps(c, image, oy, ox, oc, 0, &a);
        out[oc] = tconv_out(c, a, oc);
    }
}

void enn_transpose_conv(const enn_transpose_conv_params *prm, const int8_t *input, const int8_t *filter,
                        const int32_t *bias, int8_t *output)
{
    tconv_ctx c;
    int32_t b;
    c.filter = filter;
    c.bias = bias;
    c.mult = prm->quant.multiplier;
    c.shift = prm->quant.shift;
    c.in_h = prm->input.h;
    c.in_w = prm->input.w;
    c.in_c = prm->input.c;
    c.out_c = prm->output.c;
    c.k_h = prm->geom.filter.h;
    c.k_w = prm->geom.filter.w;
    c.s_h = prm->geom.stride.h;
    c.s_w = prm->geom.stride.w;
    c.pad_h = prm->geom.padding.h;
    c.pad_w = prm->geom.padding.w;
    c.filter_size = c.k_h * c.k_w * c.in_c;
    c.offset = prm->input_offset;
    c.out_offset = prm->output_offset;
    c.lo = prm->act.min;
    c.hi = prm->act.max;
    for (b = 0; b < prm->input.n; b++) {
        const int8_t *image = input + b * c.in_h * c.in_w * c.in_c;
        int32_t oy;
        for (oy = 0; oy < prm->output.h; oy++) {
            int32_t ox;
            for (ox = 0; ox < prm->output.w; ox++) {
                tconv_pixel(&c, image, oy, ox, output);
                output += c.out_c;
            }
        }
    }
}
