/* lrn: per pixel a sliding window of squares over the channels (exact int32: at most size * 255^2),
 * the table factor T(S) (exact below 64; above, S = m * 2^o + frac with m in [64, 128) reads entries
 * m + 64 o and the next, interpolated with a floor shift), then the requantization. */
#include "lrn.h"

#include "edgenn_fixedpoint.h"

static int32_t factor(const int32_t *table, int32_t s)
{
    int32_t o, k, frac, t0;
    if (s < 64) {
        return table[s];
    }
    o = 31 - enn_clz32((uint32_t)s) - 6;
    k = (s >> o) + 64 * o;
    frac = s & (((int32_t)1 << o) - 1);
    t0 = table[k];
    return t0 + (int32_t)(((int64_t)(table[k + 1] - t0) * frac) >> o);
}

void enn_lrn(const enn_lrn_params *prm, const int8_t *input, const int32_t *table, int8_t *output)
{
    const int32_t channels = prm->channels;
    const int32_t before = prm->before;
    const int32_t after = prm->after;
    const int32_t off = prm->input_offset;
    int32_t p;
    for (p = 0; p < prm->pixels; p++) {
        const int8_t *x = input + p * channels;
        int8_t *y = output + p * channels;
        int32_t s = 0;
        int32_t c;
        for (c = 0; c <= after && c < channels; c++) {
            const int32_t v = x[c] + off;
            s += v * v;
        }
        for (c = 0; c < channels; c++) {
            const int32_t v = x[c] + off;
            const int32_t r = enn_srdhm((int32_t)((uint32_t)v << 22), factor(table, s));
            y[c] = (int8_t)enn_clamp(enn_mbqm(r, prm->output.multiplier, (int)prm->output.shift) + prm->output.offset,
                                     -128, 127);
            if (c + after + 1 < channels) { /* the window moves on by one channel */
                const int32_t in = x[c + after + 1] + off;
                s += in * in;
            }
            if (c - before >= 0) {
                const int32_t out = x[c - before] + off;
                s -= out * out;
            }
        }
    }
}
