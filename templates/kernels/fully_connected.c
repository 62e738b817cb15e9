/* fully_connected: int8 dense layer, bit-exact with TFLM's reference FullyConnected /
 * FullyConnectedPerChannel: acc = bias + sum (filter + filter_offset) * (input + input_offset) in
 * int32 (wrapping), requantized, plus the output offset, clamped.
 *
 * Units go four at a time through enn_dot4 (edgenn_fixedpoint.h: DSP extension, Helium or portable
 * C), so that each input word loaded serves four of them. A nonzero filter_offset (asymmetric
 * weights, rare) takes a plain loop. The input row is read completely before its outputs are
 * written (the memory planner does not overlap this operator's output with its input anyway). */
#include "fully_connected.h"

#include "edgenn_simd.h"

/* Requantization of unit u: fast form (enn_rq_r) when the layer qualifies, else the reference.
 * Not inlined: once per unit against a whole row of multiply-accumulates, and it keeps the code
 * small. */
static int8_t fc_out(const enn_fully_connected_params *prm, int fast, int32_t acc, int32_t u)
{
    const int32_t c = prm->per_channel ? u : 0;
    const int32_t m = prm->quant.multiplier[c];
    int32_t v;
    if (fast) {
        v = enn_rq_r(acc, m, ~prm->quant.shift[c]); /* t = -shift - 1 */
    } else {
        v = enn_mbqm(acc, m, (int)prm->quant.shift[c]);
    }
    return enn_out8(v, prm->output_offset, prm->act.min, prm->act.max, prm->act.min == -128 && prm->act.max == 127);
}

#if defined(ENN_DSP) && !defined(ENN_MVE)
/* The DSP build extends an input row of up to this many values (a multiple of 4) to int16 pairs
 * once (enn_ext16, a 2 KB stack buffer), so that the four filters' loop (enn_dot4_x16) reads ready
 * pairs instead of extending the input again for every four units. */
#define FC_EXT 1024

/* *a_j += unit j's weights times the input pairs xp (enn_ext16), `steps` groups of four values,
 * from the code generator's pre-extended filter (codegen/dsp_filters.py): per step the four units'
 * pairs (v0, v2), (v1, v3) in a row, so that no weight is extended here: 13 instructions per 16
 * MACs against 22. */
ENN_INLINE void fc_dot4_wx(const uint32_t *xp, const uint32_t *w, int32_t steps, int32_t *a0, int32_t *a1,
                           int32_t *a2, int32_t *a3)
{
    int32_t i0 = *a0;
    int32_t i1 = *a1;
    int32_t i2 = *a2;
    int32_t i3 = *a3;
/* One step: the input pairs xp[0], xp[1] times each unit's two words. */
#define FC_WX_STEP_C                                                                               \
    i0 = __smlad((int32_t)xp[1], (int32_t)w[1], __smlad((int32_t)xp[0], (int32_t)w[0], i0));        \
    i1 = __smlad((int32_t)xp[1], (int32_t)w[3], __smlad((int32_t)xp[0], (int32_t)w[2], i1));        \
    i2 = __smlad((int32_t)xp[1], (int32_t)w[5], __smlad((int32_t)xp[0], (int32_t)w[4], i2));        \
    i3 = __smlad((int32_t)xp[1], (int32_t)w[7], __smlad((int32_t)xp[0], (int32_t)w[6], i3));
#if defined(ENN_DSP_ASM)
    if (steps & 1) {
        FC_WX_STEP_C
        xp += 2;
        w += 8;
        steps--;
    }
    if (steps > 0) {
        const uint32_t *end = xp + 2 * steps;
        int32_t xe;
        int32_t xo;
        int32_t we;
        int32_t wo;
#define FC_WX_UNIT(A)                                                                              \
    "ldrd %[we], %[wo], [%[w]], #8\n\t"                                                            \
    "smlad %[" A "], %[xe], %[we], %[" A "]\n\t"                                                    \
    "smlad %[" A "], %[xo], %[wo], %[" A "]\n\t"
#define FC_WX_STEP                                                                                 \
    "ldrd %[xe], %[xo], [%[x]], #8\n\t" FC_WX_UNIT("a0") FC_WX_UNIT("a1") FC_WX_UNIT("a2") FC_WX_UNIT("a3")
        __asm__("1:\n\t" FC_WX_STEP FC_WX_STEP
                "cmp %[x], %[end]\n\t"
                "bne 1b"
                : [a0] "+r"(i0), [a1] "+r"(i1), [a2] "+r"(i2), [a3] "+r"(i3), [x] "+r"(xp), [w] "+r"(w),
                  [xe] "=&r"(xe), [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo)
                : [end] "r"(end)
                : "cc", "memory");
#undef FC_WX_UNIT
#undef FC_WX_STEP
    }
#else
    for (; steps > 0; steps--, xp += 2, w += 8) {
        FC_WX_STEP_C
    }
#endif
#undef FC_WX_STEP_C
    *a0 = i0;
    *a1 = i1;
    *a2 = i2;
    *a3 = i3;
}
#endif

void enn_fully_connected(const enn_fully_connected_params *prm, const int8_t *input, const int8_t *filter,
                         const int32_t *bias, int8_t *output)
{
    const int32_t depth = prm->accum_depth;
    const int32_t units = prm->output_depth;
    const int32_t ioff = prm->input_offset;
    const int32_t foff = prm->filter_offset;
    const int fast = enn_rq_layer_ok(prm->quant.multiplier, prm->quant.shift, prm->per_channel ? units : 1);
#if !defined(ENN_MVE)
    const int32_t *mult = prm->quant.multiplier;
    const int8_t *shift = prm->quant.shift;
    const int32_t c2 = 2 * prm->output_offset + 1;
    /* The common layers' requantization (enn_rq8, t = -shift - 1). */
    const int fast_full = fast && prm->act.min == -128 && prm->act.max == 127 &&
                          enn_rq_layer_nz(mult, prm->per_channel ? units : 1);
#endif
#if defined(ENN_DSP) && !defined(ENN_MVE)
    const int ext = (depth & 3) == 0 && depth <= FC_EXT && units >= 4;
    uint32_t xp[FC_EXT / 2];
#endif
#if defined(ENN_NEON_PAIRS)
    const int right1 = enn_right1_neon(prm->quant.shift, prm->per_channel ? units : 1);
#endif
    int32_t b;
    for (b = 0; b < prm->batches; b++, input += depth) {
        int32_t u = 0;
#if defined(ENN_NEON_PAIRS)
        if (prm->mq != 0 && prm->wp != 0 && (depth & 7) == 0 && (units & 7) == 0) {
            /* The generator's packed filter and records (codegen/neon.py). */
            if (right1) {
                enn_fc8_neon(input, depth, prm->wp, units, prm->mq, prm->output_offset, prm->act.min, prm->act.max,
                             prm->no_min, output, 1);
            } else {
                enn_fc8_neon(input, depth, prm->wp, units, prm->mq, prm->output_offset, prm->act.min, prm->act.max,
                             prm->no_min, output, 0);
            }
            output += units;
            continue;
        }
#endif
#if defined(ENN_NEON)
        if (foff == 0 && prm->ksum != 0) {
            enn_col_neon(input, filter, depth, units, bias, prm->ksum, ioff, prm->quant.multiplier, prm->quant.shift,
                         prm->per_channel, prm->output_offset, prm->act.min, prm->act.max, prm->no_min, output);
            output += units;
            continue;
        }
#endif
        if (foff == 0) {
#if defined(ENN_DSP) && !defined(ENN_MVE)
            if (ext) {
                enn_ext16(xp, input, depth >> 2, ioff);
            }
#endif
            for (; u + 4 <= units; u += 4) {
                int32_t a0 = 0;
                int32_t a1 = 0;
                int32_t a2 = 0;
                int32_t a3 = 0;
                if (bias != 0) {
                    a0 = bias[u];
                    a1 = bias[u + 1];
                    a2 = bias[u + 2];
                    a3 = bias[u + 3];
                }
#if defined(ENN_MVE)
                if (prm->ksum != 0) {
                    /* acc += sum w x + input_offset * sum(w), the filter sums from the table. */
                    a0 = (int32_t)((uint32_t)a0 + (uint32_t)ioff * (uint32_t)prm->ksum[u]);
                    a1 = (int32_t)((uint32_t)a1 + (uint32_t)ioff * (uint32_t)prm->ksum[u + 1]);
                    a2 = (int32_t)((uint32_t)a2 + (uint32_t)ioff * (uint32_t)prm->ksum[u + 2]);
                    a3 = (int32_t)((uint32_t)a3 + (uint32_t)ioff * (uint32_t)prm->ksum[u + 3]);
                    enn_dot4x_mve(input, filter + u * depth, depth, depth, &a0, &a1, &a2, &a3);
                } else {
                    enn_dot4(input, filter + u * depth, depth, depth, ioff, &a0, &a1, &a2, &a3);
                }
                enn_requant4_mve(enn_lanes4(a0, a1, a2, a3), prm->quant.multiplier + (prm->per_channel ? u : 0),
                                 prm->quant.shift + (prm->per_channel ? u : 0), prm->per_channel, prm->output_offset,
                                 prm->act.min, prm->act.max, output + u);
#else
#if defined(ENN_DSP)
                if (ext && prm->wx != 0) {
                    fc_dot4_wx(xp, prm->wx + (u >> 1) * depth, depth >> 2, &a0, &a1, &a2, &a3);
                } else if (ext) {
                    enn_dot4_x16(xp, filter + u * depth, depth, depth >> 2, &a0, &a1, &a2, &a3);
                } else
#endif
                {
                    enn_dot4(input, filter + u * depth, depth, depth, ioff, &a0, &a1, &a2, &a3);
                }
                if (fast_full) {
                    const int32_t k = prm->per_channel ? u : 0;
                    const int32_t d = prm->per_channel ? 1 : 0;
                    output[u] = (int8_t)enn_rq8(a0, mult[k], ~shift[k], c2);
                    output[u + 1] = (int8_t)enn_rq8(a1, mult[k + d], ~shift[k + d], c2);
                    output[u + 2] = (int8_t)enn_rq8(a2, mult[k + 2 * d], ~shift[k + 2 * d], c2);
                    output[u + 3] = (int8_t)enn_rq8(a3, mult[k + 3 * d], ~shift[k + 3 * d], c2);
                } else {
                    output[u] = fc_out(prm, fast, a0, u);
                    output[u + 1] = fc_out(prm, fast, a1, u + 1);
                    output[u + 2] = fc_out(prm, fast, a2, u + 2);
                    output[u + 3] = fc_out(prm, fast, a3, u + 3);
                }
#endif
            }
            for (; u < units; u++) {
                const uint32_t acc =
                    (bias != 0 ? (uint32_t)bias[u] : 0u) + enn_dot1(input, filter + u * depth, depth, ioff);
                output[u] = fc_out(prm, fast, (int32_t)acc, u);
            }
        } else {
            for (; u < units; u++) {
                const int8_t *w = filter + u * depth;
                uint32_t acc = bias != 0 ? (uint32_t)bias[u] : 0u;
                int32_t d;
                for (d = 0; d < depth; d++) {
                    acc += (uint32_t)(((int32_t)w[d] + foff) * ((int32_t)input[d] + ioff));
                }
                output[u] = fc_out(prm, fast, (int32_t)acc, u);
            }
        }
        output += units;
    }
}
