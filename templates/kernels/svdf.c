/* svdf: TFLM's EvalIntegerSvdfReference, bit for bit, one batch row at a time (rows are independent).
 * The feature products go four filters at a time through enn_dot4 (SMLAD / VMLADAV); the time
 * products of an int16 state with zero point 0 (TFLite's) pair int16 values in SMLADs on the DSP
 * extension. */
#include "svdf.h"

#include "edgenn_fixedpoint.h"
#include "edgenn_simd.h"

/* sum_j w[j] * (s[j] - zp), int16 time weights and state. */
static int32_t time_dot16(const int16_t *w, const int16_t *s, int32_t n, int32_t zp)
{
    int32_t acc = 0;
    int32_t j = 0;
#if defined(ENN_DSP)
    if (zp == 0) {
        for (; j + 2 <= n; j += 2) {
            acc = __smlad(enn_ld32(w + j), enn_ld32(s + j), acc);
        }
    }
#endif
    for (; j < n; j++) {
        /* |w * (s - zp)| <= 32768 * 65535 < 2^31; the sum wraps as TFLM's (and runtime_py's) int32 */
        acc = enn_add_wrap(acc, (int32_t)w[j] * ((int32_t)s[j] - zp));
    }
    return acc;
}

/* The same with int8 time weights and state. */
static int32_t time_dot8(const int8_t *w, const int8_t *s, int32_t n, int32_t zp)
{
    int32_t acc = 0;
    int32_t j;
    for (j = 0; j < n; j++) {
        acc = enn_add_wrap(acc, (int32_t)w[j] * ((int32_t)s[j] - zp));
    }
    return acc;
}

/* The new activation of filter f (its feature product, requantized) into the state's last column. */
static void store_activation(const enn_svdf_params *p, void *state, int32_t at, int32_t acc, int32_t lo, int32_t hi)
{
    const int32_t v = enn_clamp(enn_mbqm(acc, p->scale1_multiplier, (int)p->scale1_shift), lo, hi) +
                      p->state_zero_point;
    if (p->state_int8) {
        ((int8_t *)state)[at] = (int8_t)v;
    } else {
        ((int16_t *)state)[at] = (int16_t)v;
    }
}

void enn_svdf(const enn_svdf_params *prm, const int8_t *input, const int8_t *weights_feature, const void *weights_time,
              const int32_t *bias, void *state, int8_t *output, int32_t *scratch)
{
    const int32_t filters = prm->filters;
    const int32_t memory = prm->memory;
    const int32_t depth = prm->input_size;
    const int32_t units = filters / prm->rank;
    const int32_t lo = prm->state_int8 ? -128 : -32768;
    const int32_t hi = prm->state_int8 ? 127 : 32767;
    const int32_t total = prm->batch * filters * memory;
    const int32_t xoff = -prm->input_zero_point;
    int32_t i;
    int32_t b;
    /* Shift the whole state left by one (TFLM's flat shift; every filter's last column is rewritten). */
    if (prm->state_int8) {
        int8_t *s = (int8_t *)state;
        for (i = 0; i + 1 < total; i++) {
            s[i] = s[i + 1];
        }
    } else {
        int16_t *s = (int16_t *)state;
        for (i = 0; i + 1 < total; i++) {
            s[i] = s[i + 1];
        }
    }
    for (b = 0; b < prm->batch; b++) {
        const int8_t *x = input + b * depth;
        const int32_t base = b * filters * memory;
        int32_t f = 0;
        for (; f + 4 <= filters; f += 4) {
            int32_t a0 = 0;
            int32_t a1 = 0;
            int32_t a2 = 0;
            int32_t a3 = 0;
            enn_dot4(x, weights_feature + f * depth, depth, depth, xoff, &a0, &a1, &a2, &a3);
            store_activation(prm, state, base + f * memory + memory - 1, a0, lo, hi);
            store_activation(prm, state, base + (f + 1) * memory + memory - 1, a1, lo, hi);
            store_activation(prm, state, base + (f + 2) * memory + memory - 1, a2, lo, hi);
            store_activation(prm, state, base + (f + 3) * memory + memory - 1, a3, lo, hi);
        }
        for (; f < filters; f++) {
            const uint32_t acc = enn_dot1(x, weights_feature + f * depth, depth, xoff);
            store_activation(prm, state, base + f * memory + memory - 1, (int32_t)acc, lo, hi);
        }
        for (f = 0; f < filters; f++) {
            const int32_t at = base + f * memory;
            scratch[f] = prm->state_int8
                             ? time_dot8((const int8_t *)weights_time + f * memory, (const int8_t *)state + at, memory,
                                         prm->state_zero_point)
                             : time_dot16((const int16_t *)weights_time + f * memory, (const int16_t *)state + at,
                                          memory, prm->state_zero_point);
        }
        for (i = 0; i < units; i++) {
            int32_t acc = bias != 0 ? bias[i] : 0;
            int32_t r;
            for (r = 0; r < prm->rank; r++) {
                acc = enn_add_wrap(acc, scratch[i * prm->rank + r]);
            }
            output[b * units + i] = (int8_t)enn_clamp(
                enn_mbqm(acc, prm->scale2_multiplier, (int)prm->scale2_shift) + prm->output_zero_point, -128, 127);
        }
    }
}
