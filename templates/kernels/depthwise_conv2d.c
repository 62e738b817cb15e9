/* depthwise_conv2d: int8 depthwise convolution, bit-exact with TFLM's
 * reference_integer_ops::DepthwiseConvPerChannel.
 *
 * Same arithmetic as TFLM: acc = bias + sum filter * (input + input_offset) in int32 (wrapping),
 * requantized per channel, plus the output offset, clamped. Output pixels are computed one after
 * the other in memory order, without working memory, so the output may overlap the input as the
 * memory planner allows (runtime_py/memory.py). The range of taps inside the input is computed once
 * per output row / column, so that no tap is tested for the padding.
 *
 * With depth_multiplier 1 (input channel == output channel) channels go four at a time:
 * - Cortex-M DSP: per tap one word of four input bytes and one of four filter bytes, unpacked by
 *   SXTAB16 / SXTB16 into int16 pairs (the input with its offset added), and one 16x16 MAC per
 *   channel (SMLABB / SMLATT); a whole 3x3 window hand-scheduled;
 * - Helium (Cortex-M55): 3x3 windows sixteen channels at a time in one asm per run of pixels
 *   (dw3_mve, from the op template's records: biases with input_offset * sum(filter) folded in,
 *   the filter in lane order, the requantization; taps in the padding read a zero-point row);
 *   other windows eight or four channels as int16 / int32 lanes;
 * - NEON: 3x3 windows from nine tap pointers with the biases folded likewise (enn_dw3_pairs_neon:
 *   two taps' raw products summed in int16) where no weight is -128; otherwise 8 or 16 channels
 *   with the offset added;
 * - portable C: the same loops with plain multiply-adds.
 * Other depth multipliers take a channel-by-channel loop. */
#include "depthwise_conv2d.h"

#include "edgenn_simd.h"
#include "edgenn_threads.h"
#include "edgenn_window.h"

#if defined(ENN_NEON)
/* Channels whose shifts a layer widens to int32 once (on the stack of a 64-bit Pi: 4 KB). */
#if !defined(DW_SHIFT32)
#define DW_SHIFT32 1024
#endif
#endif

/* A call's parameters, read once: the byte stores to the output could alias the parameter struct,
 * so the compiler would otherwise reload every field for every output. */
typedef struct {
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
    const uint8_t *rsh;
#if defined(ENN_NEON)
    const int32_t *shift32; /* the shifts as int32 (or NULL: more channels than DW_SHIFT32) */
#endif
#if defined(ENN_NEON_PAIRS)
    const int32_t *left, *right; /* with shift32: max(shift, 0) and min(shift, 0) (enn_dw3_two_neon) */
    int right1;                  /* every shift <= -1 */
#endif
    int32_t ch;        /* channels (input = output with depth_multiplier 1) */
    int32_t row_step;  /* input: next filter row */
    int32_t col_step;  /* input: next filter column */
    int32_t w_row;     /* filter: next row */
    int32_t offset;    /* input offset */
    int32_t out_offset, lo, hi;
#if !defined(ENN_MVE)
    int32_t c2;        /* 2 out_offset + 1 (enn_rq8) */
#endif
    int fast;          /* enn_rq_layer_ok */
    int full;          /* the clamp is the int8 range */
    int window3;       /* 3x3 filter, no dilation */
} dw_ctx;

/* Channel c's output byte from its accumulator (bias included). */
static int8_t dw_out_any(const dw_ctx *k, int32_t acc, int32_t c)
{
    const int32_t v = k->fast ? enn_rq_r(acc, k->mult[c], k->rsh[c]) : enn_mbqm(acc, k->mult[c], (int)k->shift[c]);
    return enn_out8(v, k->out_offset, k->lo, k->hi, 0);
}

#if !defined(ENN_MVE)
/* Four channels' bytes from their accumulators (enn_rq8; m, r: their multipliers and rshifts). */
ENN_INLINE void dw_rq4(const int32_t *m, const uint8_t *r, int32_t c2, int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                       int8_t *out)
{
    out[0] = (int8_t)enn_rq8(a0, m[0], r[0], c2);
    out[1] = (int8_t)enn_rq8(a1, m[1], r[1], c2);
    out[2] = (int8_t)enn_rq8(a2, m[2], r[2], c2);
    out[3] = (int8_t)enn_rq8(a3, m[3], r[3], c2);
}
#endif

#if defined(ENN_MVE)
/* Channels c..c+3 of one pixel as int32 lanes: acc += w * (x + offset) over the n_ky x n_kx taps
 * at x, w (first tap, channel c); then requantized in the lanes (enn_requant4_mve) and stored. */
ENN_INLINE void dw_four(const dw_ctx *k, const int8_t *x, const int8_t *w, int32_t n_ky, int32_t n_kx, int32_t c,
                        int8_t *out)
{
    int32x4_t acc = k->bias != 0 ? vldrwq_s32(k->bias + c) : vdupq_n_s32(0);
    int32_t ky;
    for (ky = 0; ky < n_ky; ky++, x += k->row_step, w += k->w_row) {
        const int8_t *xp = x;
        const int8_t *wp = w;
        int32_t kx;
        for (kx = 0; kx < n_kx; kx++, xp += k->col_step, wp += k->ch) {
            /* Helium has no lane-wise vector x vector multiply-accumulate: VMUL then VADD. */
            const int32x4_t xv = vaddq_n_s32(vldrbq_s32(xp), k->offset);
            acc = vaddq_s32(acc, vmulq_s32(xv, vldrbq_s32(wp)));
        }
    }
    enn_requant4_mve(acc, k->mult + c, k->shift + c, 1, k->out_offset, k->lo, k->hi, out);
}
#else
/* Channels c..c+3 of one pixel: acc[j] += w[j] * (x[j] + offset) over the n_ky x n_kx taps at x,
 * w (first tap, channel c); then requantized and stored. fast_full: a constant in each caller
 * (enn_rq_layer_ok and an int8-range clamp). */
ENN_INLINE void dw_four(const dw_ctx *k, const int8_t *x, const int8_t *w, int32_t n_ky, int32_t n_kx, int32_t c,
                        int8_t *out, const int fast_full)
{
    int32_t a0 = 0;
    int32_t a1 = 0;
    int32_t a2 = 0;
    int32_t a3 = 0;
    if (k->bias != 0) {
        a0 = k->bias[c];
        a1 = k->bias[c + 1];
        a2 = k->bias[c + 2];
        a3 = k->bias[c + 3];
    }
#if defined(ENN_DSP)
    {
        /* input_offset in both 16-bit halves, for SXTAB16. */
        const int32_t offset2 = (int32_t)(((uint32_t)k->offset & 0xFFFFu) * 0x10001u);
#if defined(ENN_DSP_ASM)
        if (n_ky == 3 && n_kx == 3 && k->window3) {
            /* A whole 3x3 window, hand-scheduled (ENN_DSP_ASM): 10 instructions per tap for four
             * channels, 102 per window. Taps of a row are `col` bytes apart in both input and
             * filter (depth_multiplier 1, no dilation); after a row the input moves on by
             * row_step - col (kept in memory), the filter by 2 col. 12 registers. */
            const int32_t col = k->ch;
            const int32_t radj = k->row_step - col;
            int32_t xv;
            int32_t x13;
            int32_t wv;
            int32_t w13;
#define DW_TAP(OFS)                                                                  \
    "ldr %[xv], [%[x]" OFS "]\n\t"                                                                 \
    "ldr %[wv], [%[w]" OFS "]\n\t"                                                                 \
    "sxtab16 %[x13], %[off2], %[xv], ror #8\n\t"                                                   \
    "sxtab16 %[xv], %[off2], %[xv]\n\t"                                                            \
    "sxtb16 %[w13], %[wv], ror #8\n\t"                                                             \
    "sxtb16 %[wv], %[wv]\n\t"                                                                      \
    "smlabb %[a0], %[xv], %[wv], %[a0]\n\t"                                                        \
    "smlatt %[a2], %[xv], %[wv], %[a2]\n\t"                                                        \
    "smlabb %[a1], %[x13], %[w13], %[a1]\n\t"                                                      \
    "smlatt %[a3], %[x13], %[w13], %[a3]\n\t"
#define DW_ROW                                                                       \
    DW_TAP("") DW_TAP(", %[col]")                                      \
    "add %[x], %[x], %[col]\n\t"                                                                   \
    "add %[w], %[w], %[col]\n\t" DW_TAP(", %[col]")
#define DW_NEXT                                                                      \
    "ldr %[xv], %[radj]\n\t"                                                                       \
    "add %[x], %[x], %[xv]\n\t"                                                                    \
    "add %[w], %[w], %[col], lsl #1\n\t"
            __asm__(DW_ROW DW_NEXT DW_ROW DW_NEXT
                    DW_ROW
                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w),
                      [xv] "=&r"(xv), [x13] "=&r"(x13), [wv] "=&r"(wv), [w13] "=&r"(w13)
                    : [col] "r"(col), [radj] "m"(radj), [off2] "r"(offset2)
                    : "memory");
        } else
#endif
        {
            int32_t ky;
            for (ky = 0; ky < n_ky; ky++, x += k->row_step, w += k->w_row) {
                const int8_t *xp = x;
                const int8_t *wp = w;
                int32_t kx;
                for (kx = 0; kx < n_kx; kx++, xp += k->col_step, wp += k->ch) {
                    const int32_t xv = enn_ld32(xp);
                    const int32_t wv = enn_ld32(wp);
                    const int32_t x02 = __sxtab16(offset2, xv);
                    const int32_t x13 = enn_sxtab16_ror8(offset2, xv);
                    const int32_t w02 = __sxtb16(wv);
                    const int32_t w13 = enn_sxtb16_ror8(wv);
                    a0 = __smlabb(x02, w02, a0);
                    a2 = __smlatt(x02, w02, a2);
                    a1 = __smlabb(x13, w13, a1);
                    a3 = __smlatt(x13, w13, a3);
                }
            }
        }
    }
#else
    {
        /* Unsigned accumulation: int32 wrap-around without undefined behaviour. */
        uint32_t u0 = (uint32_t)a0;
        uint32_t u1 = (uint32_t)a1;
        uint32_t u2 = (uint32_t)a2;
        uint32_t u3 = (uint32_t)a3;
        const int32_t offset = k->offset;
        int32_t ky;
        for (ky = 0; ky < n_ky; ky++, x += k->row_step, w += k->w_row) {
            const int8_t *xp = x;
            const int8_t *wp = w;
            int32_t kx;
            for (kx = 0; kx < n_kx; kx++, xp += k->col_step, wp += k->ch) {
                u0 += (uint32_t)(wp[0] * (xp[0] + offset));
                u1 += (uint32_t)(wp[1] * (xp[1] + offset));
                u2 += (uint32_t)(wp[2] * (xp[2] + offset));
                u3 += (uint32_t)(wp[3] * (xp[3] + offset));
            }
        }
        a0 = (int32_t)u0;
        a1 = (int32_t)u1;
        a2 = (int32_t)u2;
        a3 = (int32_t)u3;
    }
#endif
    if (fast_full) {
        dw_rq4(k->mult + c, k->rsh + c, k->c2, a0, a1, a2, a3, out);
    } else {
        out[0] = dw_out_any(k, a0, c);
        out[1] = dw_out_any(k, a1, c + 1);
        out[2] = dw_out_any(k, a2, c + 2);
        out[3] = dw_out_any(k, a3, c + 3);
    }
}
#endif

#if defined(ENN_MVE)
/* Channels c..c+15 (sets == 2) or c..c+7 (sets == 1) of one pixel in int16 lanes. Per tap and set of
 * eight channels, the input (with its offset) and the filter as eight int16; VMULLB / VMULLT
 * multiply the even and the odd lanes into int32 products for two accumulators (channels c, c+2,
 * c+4, c+6 and c+1, c+3, c+5, c+7), requantized with their parameters gathered at stride 2 and
 * stored back interleaved. |(x + offset) w| <= 255 * 128 fits the int16 operands; the products are
 * int32. Seven vector registers, so that nothing spills in the tap loop. */
ENN_INLINE void dw_sets(const dw_ctx *k, const int8_t *x, const int8_t *w, int32_t n_ky, int32_t n_kx, int32_t c,
                        int8_t *out, const int sets)
{
    const int16_t offset = (int16_t)k->offset;
    int32x4_t e0 = vdupq_n_s32(0); /* channels c, c+2, c+4, c+6 */
    int32x4_t o0 = vdupq_n_s32(0); /* c+1, c+3, c+5, c+7 */
    int32x4_t e1 = vdupq_n_s32(0); /* c+8, ..., c+14 */
    int32x4_t o1 = vdupq_n_s32(0); /* c+9, ..., c+15 */
    int32_t ky;
    int32_t j;
    for (ky = 0; ky < n_ky; ky++, x += k->row_step, w += k->w_row) {
        const int8_t *xp = x;
        const int8_t *wp = w;
        int32_t kx;
        for (kx = 0; kx < n_kx; kx++, xp += k->col_step, wp += k->ch) {
            int16x8_t xv = vaddq_n_s16(vldrbq_s16(xp), offset);
            int16x8_t wv = vldrbq_s16(wp);
            e0 = vaddq_s32(e0, vmullbq_int_s16(xv, wv));
            o0 = vaddq_s32(o0, vmulltq_int_s16(xv, wv));
            if (sets == 2) {
                xv = vaddq_n_s16(vldrbq_s16(xp + 8), offset);
                wv = vldrbq_s16(wp + 8);
                e1 = vaddq_s32(e1, vmullbq_int_s16(xv, wv));
                o1 = vaddq_s32(o1, vmulltq_int_s16(xv, wv));
            }
        }
    }
    for (j = 0; j < 2 * sets; j++) {
        /* Accumulator j holds channels c + 8 (j / 2) + (j % 2) + 0, 2, 4, 6. */
        const int32_t first = c + 8 * (j >> 1) + (j & 1);
        const uint32x4_t idx = vidupq_n_u32(0, 2); /* 0, 2, 4, 6 */
        int32x4_t acc = j == 0 ? e0 : (j == 1 ? o0 : (j == 2 ? e1 : o1));
        if (k->bias != 0) {
            acc = vaddq_s32(acc, vldrwq_gather_shifted_offset_s32(k->bias + first, idx));
        }
        acc = enn_mbqm4_mve(acc, vldrwq_gather_shifted_offset_s32(k->mult + first, idx),
                            vldrbq_gather_offset_s32(k->shift + first, idx));
        acc = vaddq_n_s32(acc, k->out_offset);
        acc = vminq_s32(vmaxq_s32(acc, vdupq_n_s32(k->lo)), vdupq_n_s32(k->hi));
        vstrbq_scatter_offset_s32(out + (first - c), idx, acc);
    }
}
#endif

#if defined(ENN_DSP_ASM) && !defined(ENN_MVE)
/* Layers of up to this many channels extend their 3x3 filter to int16 once per call, into a stack
 * buffer of 3584 bytes (dw_ext3): per four channels a record of DW3_WORDS words, the nine taps'
 * pairs (c0, c2), (c1, c3) in a row, so that the window reads each tap's weights with one LDRD at
 * a constant offset, then the four channels' requantization: so that one pointer walks all a
 * group needs. */
#define DW_EXT_CH 128
#define DW3_WORDS 28
/* Byte offsets in a record: the four biases, the four multipliers doubled (SMMLAR's operand), the
 * four right shifts packed in a word (c0 in its low byte), then c2 (enn_rq8). */
#define DW3_BIAS 72
#define DW3_MULT2 88
#define DW3_RSH 104

/* The records of ch channels (ch % 4 == 0, ch <= DW_EXT_CH): wext[28 g + 2 t] = tap t's (c0, c2)
 * of channels 4g.., wext[28 g + 2 t + 1] its (c1, c3), then bias, 2 m, shifts and c2. */
static void dw_ext3(const dw_ctx *k, const int8_t *w, int32_t ch, uint32_t *wext)
{
    int32_t g;
    for (g = 0; g < ch; g += 4, wext += DW3_WORDS) {
        int32_t t;
        for (t = 0; t < 9; t++) {
            const int32_t v = enn_ld32(w + t * ch + g);
            wext[2 * t] = (uint32_t)__sxtb16(v);
            wext[2 * t + 1] = (uint32_t)enn_sxtb16_ror8(v);
        }
        for (t = 0; t < 4; t++) {
            wext[DW3_BIAS / 4 + t] = (uint32_t)k->bias[g + t];
            wext[DW3_MULT2 / 4 + t] = (uint32_t)k->mult[g + t] << 1;
        }
        wext[DW3_RSH / 4] = (uint32_t)k->rsh[g] | (uint32_t)k->rsh[g + 1] << 8 | (uint32_t)k->rsh[g + 2] << 16 |
                            (uint32_t)k->rsh[g + 3] << 24;
        wext[DW3_RSH / 4 + 1] = (uint32_t)k->c2;
    }
}

/* All channels (a multiple of four, at most DW_EXT_CH) of one output pixel whose whole 3x3 window
 * lies inside the input, for the common layers (bias present, enn_rq8), from the records of dw_ext3,
 * in one asm: per four channels the accumulators from the biases, the window (8 instructions per
 * tap: LDR and two SXTAB16 for the input, one LDRD for the weights, four 16x16 MACs), then enn_rq8
 * of the four sums (SMMLAR with 2 m, s - [s < 0], >> t, + c2 saturating, SSAT of the half) and
 * their bytes packed into one word: 116 instructions per four channels, 12 registers. What the
 * loop does not hold in registers lives in `st`, addressed off sp. */
/* One tap of four channels: the input word at x (+ XOFS), the weights' pairs at w + WOFS. */
#define DW3_TAP(XOFS, WOFS)                                                                        \
    "ldr %[xv], [%[x]" XOFS "]\n\t"                                                                 \
    "ldrd %[we], %[wo], [%[w], #" WOFS "]\n\t"                                                      \
    "sxtab16 %[x13], %[off2], %[xv], ror #8\n\t"                                                   \
    "sxtab16 %[xv], %[off2], %[xv]\n\t"                                                            \
    "smlabb %[a0], %[xv], %[we], %[a0]\n\t"                                                        \
    "smlatt %[a2], %[xv], %[we], %[a2]\n\t"                                                        \
    "smlabb %[a1], %[x13], %[wo], %[a1]\n\t"                                                       \
    "smlatt %[a3], %[x13], %[wo], %[a3]\n\t"
#define DW3_STR(X) #X
#define DW3_NUM(X) DW3_STR(X)
/* Accumulators from the record's biases (w at the record). */
#define DW3_BIASES                                                                                 \
    "ldrd %[a0], %[a1], [%[w], #" DW3_NUM(DW3_BIAS) "]\n\t"                                         \
    "ldrd %[a2], %[a3], [%[w], #" DW3_NUM(DW3_BIAS) " + 8]\n\t"
/* With w back at the record and x at the next group's input: enn_rq8 of the four sums (SMMLAR with
 * 2 m, s - [s < 0], >> t (ASR by a register takes its low byte), + c2 saturating, SSAT of the
 * half), their bytes packed into one word stored at x + delta, then on to the next record. */
#define DW3_REQUANT_NEXT                                                                           \
    "ldrd %[we], %[wo], [%[w], #" DW3_NUM(DW3_MULT2) "]\n\t"                                        \
    "smmlar %[a0], %[a0], %[we], %[a0]\n\t"                                                        \
    "smmlar %[a1], %[a1], %[wo], %[a1]\n\t"                                                        \
    "ldrd %[we], %[wo], [%[w], #" DW3_NUM(DW3_MULT2) " + 8]\n\t"                                    \
    "smmlar %[a2], %[a2], %[we], %[a2]\n\t"                                                        \
    "smmlar %[a3], %[a3], %[wo], %[a3]\n\t"                                                        \
    "add %[a0], %[a0], %[a0], asr #31\n\t"                                                         \
    "add %[a1], %[a1], %[a1], asr #31\n\t"                                                         \
    "add %[a2], %[a2], %[a2], asr #31\n\t"                                                         \
    "add %[a3], %[a3], %[a3], asr #31\n\t"                                                         \
    "ldrd %[xv], %[x13], [%[w], #" DW3_NUM(DW3_RSH) "]\n\t"                                         \
    "asr %[a0], %[a0], %[xv]\n\t"                                                                  \
    "lsr %[xv], %[xv], #8\n\t"                                                                     \
    "asr %[a1], %[a1], %[xv]\n\t"                                                                  \
    "lsr %[xv], %[xv], #8\n\t"                                                                     \
    "asr %[a2], %[a2], %[xv]\n\t"                                                                  \
    "lsr %[xv], %[xv], #8\n\t"                                                                     \
    "asr %[a3], %[a3], %[xv]\n\t"                                                                  \
    "qadd %[a0], %[a0], %[x13]\n\t"                                                                \
    "qadd %[a1], %[a1], %[x13]\n\t"                                                                \
    "qadd %[a2], %[a2], %[x13]\n\t"                                                                \
    "qadd %[a3], %[a3], %[x13]\n\t"                                                                \
    "ssat %[a0], #8, %[a0], asr #1\n\t"                                                            \
    "ssat %[a1], #8, %[a1], asr #1\n\t"                                                            \
    "ssat %[a2], #8, %[a2], asr #1\n\t"                                                            \
    "ssat %[a3], #8, %[a3], asr #1\n\t"                                                            \
    "bfi %[a0], %[a1], #8, #8\n\t"                                                                 \
    "bfi %[a0], %[a2], #16, #8\n\t"                                                                \
    "bfi %[a0], %[a3], #24, #8\n\t"                                                                \
    "ldr %[xv], %[s_delta]\n\t"                                                                    \
    "str %[a0], [%[x], %[xv]]\n\t"                                                                 \
    "add %[w], %[w], #" DW3_NUM(DW3_WORDS) " * 4\n\t"                                               \
    "ldr %[xv], %[s_w_end]\n\t"                                                                    \
    "cmp %[w], %[xv]\n\t"                                                                          \
    "bne 1b"
/* The asm's operands: 12 registers; what the loop does not hold in them lives in `st` (addressed
 * off sp). volatile: the asm's only effect is the output it stores. */
#define DW3_OUTS                                                                                   \
    [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [x] "+r"(x), [w] "+r"(w),         \
    [xv] "=&r"(xv), [x13] "=&r"(x13), [we] "=&r"(we), [wo] "=&r"(wo)
#define DW3_INS                                                                                    \
    [col] "r"(col), [off2] "r"(offset2), [s_radj] "m"(st.radj), [s_back] "m"(st.back),               \
    [s_delta] "m"(st.delta), [s_w_end] "m"(st.w_end)

/* The state of the asm loops below beside their registers. */
typedef struct {
    int32_t radj;           /* the next window row after a row's taps */
    int32_t back;           /* a window's end to the next group's start */
    int32_t delta;          /* out - x - 4: where the group just done stores its word */
    const uint32_t *w_end;  /* past the last record */
    int32_t tofs;           /* bytes from a record to the window's first tap (cut windows) */
    int32_t rows;           /* the window's rows (cut windows) */
    int32_t wback;          /* from past a cut window's last row of taps back to its record */
    int32_t left;           /* rows still to do */
} dw3_state;

/* All channels (a multiple of four, at most DW_EXT_CH) of one output pixel whose whole 3x3 window
 * lies inside the input, for the common layers (bias present, enn_rq8), from the records of dw_ext3,
 * in one asm: per four channels the accumulators from the biases, the window (8 instructions per
 * tap: LDR and two SXTAB16 for the input, one LDRD for the weights, four 16x16 MACs), then the
 * requantization and the four bytes (DW3_REQUANT_NEXT): 116 instructions per four channels. */
ENN_NOINLINE void dw_win3_dsp(const dw_ctx *k, const int8_t *x, const uint32_t *wext, int8_t *out)
{
    dw3_state st;
    const int32_t col = k->ch;
    const int32_t offset2 = (int32_t)(((uint32_t)k->offset & 0xFFFFu) * 0x10001u);
    const uint32_t *w = wext;
    int32_t a0;
    int32_t a1;
    int32_t a2;
    int32_t a3;
    int32_t xv;
    int32_t x13;
    int32_t we;
    int32_t wo;
    st.radj = k->row_step - col;
    st.back = 2 * k->row_step + col - 4;
    st.delta = (int32_t)((uintptr_t)out - (uintptr_t)x) - 4;
    st.w_end = wext + DW3_WORDS * (col >> 2);
#define DW3_ROW(T0, T1, T2)                                                                        \
    DW3_TAP("", T0) DW3_TAP(", %[col]", T1) "add %[x], %[x], %[col]\n\t" DW3_TAP(", %[col]", T2)
#define DW3_NEXT                                                                                   \
    "ldr %[xv], %[s_radj]\n\t"                                                                     \
    "add %[x], %[x], %[xv]\n\t"
    __asm__ __volatile__("1:\n\t" DW3_BIASES
                         DW3_ROW("0", "8", "16") DW3_NEXT DW3_ROW("24", "32", "40") DW3_NEXT DW3_ROW("48", "56", "64")
                         "ldr %[xv], %[s_back]\n\t"
                         "sub %[x], %[x], %[xv]\n\t"
                         DW3_REQUANT_NEXT
                         : DW3_OUTS
                         : DW3_INS
                         : "cc", "memory");
#undef DW3_ROW
#undef DW3_NEXT
    (void)a0;
    (void)a1;
    (void)a2;
    (void)a3;
    (void)xv;
    (void)x13;
    (void)we;
    (void)wo;
}

/* As dw_win3_dsp for a window cut by the padding (edge pixels): x at its first valid tap, tofs the
 * bytes from a record to that tap's pairs (8 (ky * 3 + kx)), n_ky rows of taps; the row's taps
 * (ROW: one, two or three) unrolled in each build below, the rows a loop. */
#define DW3_PART_BODY(ROW, RADJ)                                                                   \
    dw3_state st;                                                                                  \
    const int32_t col = k->ch;                                                                     \
    const int32_t offset2 = (int32_t)(((uint32_t)k->offset & 0xFFFFu) * 0x10001u);                \
    const uint32_t *w = wext;                                                                      \
    int32_t a0;                                                                                    \
    int32_t a1;                                                                                    \
    int32_t a2;                                                                                    \
    int32_t a3;                                                                                    \
    int32_t xv;                                                                                    \
    int32_t x13;                                                                                   \
    int32_t we;                                                                                    \
    int32_t wo;                                                                                    \
    st.back = n_ky * k->row_step - 4;                                                              \
    st.delta = (int32_t)((uintptr_t)out - (uintptr_t)x) - 4;                                       \
    st.w_end = wext + DW3_WORDS * (col >> 2);                                                      \
    st.tofs = tofs;                                                                                \
    st.rows = n_ky;                                                                                \
    st.wback = 24 * n_ky + tofs;                                                                   \
    st.left = 0;                                                                                   \
    st.radj = (RADJ);                                                                              \
    __asm__ __volatile__("1:\n\t" DW3_BIASES                                                       \
                         "ldr %[xv], %[s_tofs]\n\t"                                                \
                         "add %[w], %[w], %[xv]\n\t"                                               \
                         "ldr %[xv], %[s_rows]\n\t"                                                \
                         "str %[xv], %[s_left]\n\t"                                                \
                         "2:\n\t" ROW                                                              \
                         "ldr %[xv], %[s_radj]\n\t"                                                \
                         "add %[x], %[x], %[xv]\n\t"                                               \
                         "add %[w], %[w], #24\n\t"                                                 \
                         "ldr %[xv], %[s_left]\n\t"                                                \
                         "subs %[xv], %[xv], #1\n\t"                                               \
                         "str %[xv], %[s_left]\n\t"                                                \
                         "bne 2b\n\t"                                                              \
                         "ldr %[xv], %[s_back]\n\t"                                                \
                         "sub %[x], %[x], %[xv]\n\t"                                               \
                         "ldr %[xv], %[s_wback]\n\t"                                               \
                         "sub %[w], %[w], %[xv]\n\t"                                               \
                         DW3_REQUANT_NEXT                                                          \
                         : DW3_OUTS, [s_left] "+m"(st.left)                                        \
                         : DW3_INS, [s_tofs] "m"(st.tofs), [s_rows] "m"(st.rows),                  \
                           [s_wback] "m"(st.wback)                                                 \
                         : "cc", "memory");                                                        \
    (void)a0;                                                                                      \
    (void)a1;                                                                                      \
    (void)a2;                                                                                      \
    (void)a3;                                                                                      \
    (void)xv;                                                                                      \
    (void)x13;                                                                                     \
    (void)we;                                                                                      \
    (void)wo

ENN_NOINLINE void dw_part3_dsp1(const dw_ctx *k, const int8_t *x, const uint32_t *wext, int32_t tofs, int32_t n_ky,
                                int8_t *out)
{
    DW3_PART_BODY(DW3_TAP("", "0"), k->row_step);
}

ENN_NOINLINE void dw_part3_dsp2(const dw_ctx *k, const int8_t *x, const uint32_t *wext, int32_t tofs, int32_t n_ky,
                                int8_t *out)
{
    DW3_PART_BODY(DW3_TAP("", "0") DW3_TAP(", %[col]", "8"), k->row_step);
}

ENN_NOINLINE void dw_part3_dsp3(const dw_ctx *k, const int8_t *x, const uint32_t *wext, int32_t tofs, int32_t n_ky,
                                int8_t *out)
{
    /* The row's last tap two columns on: x moved by one of them. */
    DW3_PART_BODY(DW3_TAP("", "0") DW3_TAP(", %[col]", "8") "add %[x], %[x], %[col]\n\t" DW3_TAP(", %[col]", "16"),
                  k->row_step - col);
}
#undef DW3_TAP
#undef DW3_STR
#undef DW3_NUM
#undef DW3_BIASES
#undef DW3_REQUANT_NEXT
#undef DW3_OUTS
#undef DW3_INS
#undef DW3_PART_BODY
#endif

/* All channels of one output pixel with depth_multiplier 1: x, w at the first valid tap. */
ENN_INLINE void dw_pixel(const dw_ctx *k, const int8_t *x, const int8_t *w, int32_t n_ky, int32_t n_kx, int8_t *out,
                         const int fast_full)
{
    int32_t c = 0;
#if defined(ENN_NEON)
    if (k->shift32 != 0) {
        for (; c + 16 <= k->ch; c += 16) {
            enn_dw16_neon(x + c, w + c, n_ky, n_kx, k->row_step, k->col_step, k->w_row, k->ch, k->offset,
                          k->bias != 0 ? k->bias + c : 0, k->mult + c, k->shift + c, k->shift32 + c, k->out_offset,
                          k->lo, k->hi, out + c);
        }
    } else {
        for (; c + 16 <= k->ch; c += 16) {
            enn_dw16_neon(x + c, w + c, n_ky, n_kx, k->row_step, k->col_step, k->w_row, k->ch, k->offset,
                          k->bias != 0 ? k->bias + c : 0, k->mult + c, k->shift + c, 0, k->out_offset, k->lo, k->hi,
                          out + c);
        }
    }
    for (; c + 8 <= k->ch; c += 8) {
        enn_dw8_neon(x + c, w + c, n_ky, n_kx, k->row_step, k->col_step, k->w_row, k->ch, k->offset,
                     k->bias != 0 ? k->bias + c : 0, k->mult + c, k->shift + c, 0, k->out_offset, k->lo, k->hi,
                     out + c);
    }
#endif
#if defined(ENN_MVE)
    /* Sixteen channels per call would spill vector registers in gcc 12: eight. */
    for (; c + 8 <= k->ch; c += 8) {
        dw_sets(k, x + c, w + c, n_ky, n_kx, c, out + c, 1);
    }
#endif
    for (; c + 4 <= k->ch; c += 4) {
#if defined(ENN_MVE)
        (void)fast_full;
        dw_four(k, x + c, w + c, n_ky, n_kx, c, out + c);
#else
        dw_four(k, x + c, w + c, n_ky, n_kx, c, out + c, fast_full);
#endif
    }
    for (; c < k->ch; c++) {
        const int8_t *x_row = x + c;
        const int8_t *w_row = w + c;
        uint32_t acc = k->bias != 0 ? (uint32_t)k->bias[c] : 0u;
        int32_t ky;
        for (ky = 0; ky < n_ky; ky++, x_row += k->row_step, w_row += k->w_row) {
            const int8_t *xp = x_row;
            const int8_t *wp = w_row;
            int32_t kx;
            for (kx = 0; kx < n_kx; kx++, xp += k->col_step, wp += k->ch) {
                acc += (uint32_t)((int32_t)*wp * ((int32_t)*xp + k->offset));
            }
        }
        out[c] = dw_out_any(k, (int32_t)acc, c);
    }
}

#if defined(ENN_MVE) && defined(__OPTIMIZE__) && !defined(ENN_NO_ASM)
#define DW_MVE_ASM 1
/* What dw3_mve reads (the offsets are the asm's). */
typedef struct {
    const int8_t *tap[9]; /*  0: the window's taps in filter order (the input, or the zero-point row) */
    const int32_t *mq;    /* 36: the layer's records (codegen/helium.py dw_records) */
    int8_t *out;          /* 40: the pixel's outputs */
    int32_t groups;       /* 44: whole groups of sixteen channels */
    int32_t rest;         /* 48: channels of a last, partial group (0: none) */
    int32_t out_offset;   /* 52 */
    int32_t lo;           /* 56 */
    int32_t hi;           /* 60 */
    int32_t pixels;       /* 64: pixels of the run, >= 1 (each one stride further along the row) */
    int32_t adv_in;       /* 68: a tap's next pixel, from where its cursor ends: stride - 16 ceil(C / 16) */
    int32_t adv_out;      /* 72: the output's likewise: C - 16 ceil(C / 16) */
} dw3_mve_job;

/* One tap of a group of sixteen channels: the sixteen input bytes (P T: a VPST and the predicated
 * form, for the last, partial group) widened to int16 as the even channels (VMOVLB) and the odd
 * (VMOVLT), each multiplied (VMULLB / VMULLT: int32 products of the even / odd lanes) by the
 * record's int16 filter of those channels, into four accumulators: channels 0, 4, 8, 12 / 2, 6,
 * 10, 14 / 1, 5, 9, 13 / 3, 7, 11, 15. 13 instructions per 16 MACs. */
#define DW3M_TAP(R, P, T)                                                                       \
    P "vldrb" T ".8 q4, [" R "], #16\n\t"                                                       \
    "vmovlt.s8 q5, q4\n\t"                                                                      \
    "vmovlb.s8 q4, q4\n\t"                                                                      \
    "vldrh.16 q6, [r0], #16\n\t"                                                                \
    "vmullb.s16 q7, q4, q6\n\t"                                                                 \
    "vadd.i32 q0, q0, q7\n\t"                                                                   \
    "vmullt.s16 q7, q4, q6\n\t"                                                                 \
    "vadd.i32 q1, q1, q7\n\t"                                                                   \
    "vldrh.16 q6, [r0], #16\n\t"                                                                \
    "vmullb.s16 q7, q5, q6\n\t"                                                                 \
    "vadd.i32 q2, q2, q7\n\t"                                                                   \
    "vmullt.s16 q7, q5, q6\n\t"                                                                 \
    "vadd.i32 q3, q3, q7\n\t"

/* enn_mbqm4_mve's steps on accumulator Q with the record's multipliers, left and right shifts,
 * plus the output offset (r11). */
#define DW3M_RQ(Q)                                                                              \
    "vldrw.32 q4, [r0], #16\n\t"                                                                \
    "vldrb.s32 q5, [r0], #4\n\t"                                                                \
    "vshl.s32 " Q ", " Q ", q5\n\t"                                                             \
    "vqrdmulh.s32 " Q ", " Q ", q4\n\t"                                                         \
    "vldrb.s32 q5, [r0], #4\n\t"                                                                \
    "vand q6, " Q ", q5\n\t"                                                                    \
    "vshr.s32 q6, q6, #31\n\t"                                                                  \
    "vqadd.s32 " Q ", " Q ", q6\n\t"                                                            \
    "vrshl.s32 " Q ", " Q ", q5\n\t"                                                            \
    "vadd.i32 " Q ", " Q ", r11\n\t"

/* A group: the accumulators from the folded biases, nine taps, the requantization, the four
 * accumulators narrowed with saturation to sixteen bytes in channel order (the clamp to lo / hi
 * from the stack after: exact, as lo and hi are within int8), stored. */
#define DW3M_GROUP(P, T)                                                                        \
    "vldrw.32 q0, [r0], #16\n\t"                                                                \
    "vldrw.32 q1, [r0], #16\n\t"                                                                \
    "vldrw.32 q2, [r0], #16\n\t"                                                                \
    "vldrw.32 q3, [r0], #16\n\t"                                                                \
    DW3M_TAP("r1", P, T) DW3M_TAP("r2", P, T) DW3M_TAP("r3", P, T)                              \
    DW3M_TAP("r4", P, T) DW3M_TAP("r5", P, T) DW3M_TAP("r6", P, T)                              \
    DW3M_TAP("r7", P, T) DW3M_TAP("r8", P, T) DW3M_TAP("r9", P, T)                              \
    DW3M_RQ("q0") DW3M_RQ("q1") DW3M_RQ("q2") DW3M_RQ("q3")                                     \
    "vqmovnb.s32 q4, q0\n\t"                                                                    \
    "vqmovnt.s32 q4, q1\n\t"                                                                    \
    "vqmovnb.s32 q5, q2\n\t"                                                                    \
    "vqmovnt.s32 q5, q3\n\t"                                                                    \
    "vqmovnb.s16 q6, q4\n\t"                                                                    \
    "vqmovnt.s16 q6, q5\n\t"                                                                    \
    "vldrw.32 q7, [sp]\n\t"                                                                     \
    "vmax.s8 q6, q6, q7\n\t"                                                                    \
    "vldrw.32 q7, [sp, #16]\n\t"                                                                \
    "vmin.s8 q6, q6, q7\n\t"                                                                    \
    P "vstrb" T ".8 q6, [r10], #16\n\t"

/* All channels of a run of pixels of a 3x3 layer with depth multiplier 1, sixteen at a time: the
 * nine tap cursors (r1-r9) walk the channels, the record cursor (r0: a low register for the
 * byte-wide shifts) the layer's records, LR counts the groups (WLS / LE); the last, partial group's
 * input loads and store are predicated (VCTP), so that nothing past the channels is read or
 * written. Then the cursors move on to the run's next pixel (its taps one stride further, the
 * records from their start). About 170 instructions per sixteen channels and 20 per pixel,
 * besides the call. Naked: all fourteen registers; the run's counters on the stack. */
__attribute__((naked, noinline)) static void dw3_mve(const dw3_mve_job *job __attribute__((unused)))
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "vpush {d8-d15}\n\t"
        "sub sp, sp, #56\n\t"
        "ldr r1, [r0, #64]\n\t"
        "str r1, [sp, #32]\n\t"
        "ldr r1, [r0, #68]\n\t"
        "str r1, [sp, #36]\n\t"
        "ldr r1, [r0, #72]\n\t"
        "str r1, [sp, #40]\n\t"
        "ldr r1, [r0, #36]\n\t"
        "str r1, [sp, #44]\n\t"
        "ldr r1, [r0, #44]\n\t"
        "str r1, [sp, #48]\n\t"
        "ldr r1, [r0, #56]\n\t"
        "vdup.8 q0, r1\n\t"
        "vstrw.32 q0, [sp]\n\t"
        "ldr r1, [r0, #60]\n\t"
        "vdup.8 q0, r1\n\t"
        "vstrw.32 q0, [sp, #16]\n\t"
        "ldr r11, [r0, #52]\n\t"
        "ldr r10, [r0, #40]\n\t"
        "ldr r12, [r0, #48]\n\t"
        "ldmia r0!, {r1-r9}\n\t"
        "ldr r0, [r0]\n\t"
        "0:\n\t"
        "ldr lr, [sp, #48]\n\t"
        "wls lr, lr, 3f\n\t"
        "1:\n\t"
        DW3M_GROUP("", "")
        "le lr, 1b\n\t"
        "3:\n\t"
        "cmp r12, #0\n\t"
        "beq 4f\n\t"
        "vctp.8 r12\n\t"
        DW3M_GROUP("vpst\n\t", "t")
        "4:\n\t"
        "ldr lr, [sp, #32]\n\t"
        "subs lr, lr, #1\n\t"
        "beq 5f\n\t"
        "str lr, [sp, #32]\n\t"
        "ldr lr, [sp, #36]\n\t"
        "add r1, r1, lr\n\t"
        "add r2, r2, lr\n\t"
        "add r3, r3, lr\n\t"
        "add r4, r4, lr\n\t"
        "add r5, r5, lr\n\t"
        "add r6, r6, lr\n\t"
        "add r7, r7, lr\n\t"
        "add r8, r8, lr\n\t"
        "add r9, r9, lr\n\t"
        "ldr lr, [sp, #40]\n\t"
        "add r10, r10, lr\n\t"
        "ldr r0, [sp, #44]\n\t"
        "b 0b\n\t"
        "5:\n\t"
        "add sp, sp, #56\n\t"
        "vpop {d8-d15}\n\t"
        "pop {r4-r11, pc}\n\t");
}
#endif

/* The two builds of dw_pixel: common layers (fast requantization, no clamp beyond int8) and any. */
static void dw_pixel_fast(const dw_ctx *k, const int8_t *x, const int8_t *w, int32_t n_ky, int32_t n_kx, int8_t *out)
{
    dw_pixel(k, x, w, n_ky, n_kx, out, 1);
}

static void dw_pixel_any(const dw_ctx *k, const int8_t *x, const int8_t *w, int32_t n_ky, int32_t n_kx, int8_t *out)
{
    dw_pixel(k, x, w, n_ky, n_kx, out, 0);
}

#if defined(DW_MVE_ASM) || defined(ENN_NEON)
#define DW_TAPS 1
/* Channels up to which a 3x3 layer takes dw3_mve / enn_dw3_pairs_neon (the zero-point row of
 * their padded taps is on the stack). */
#define DW_ZP_CH 1024
#if defined(ENN_NEON_PAIRS) && !defined(DW_ZP_ROW)
#define DW_ZP_ROW 8192 /* bytes of the NEON runs' zero-point row */
#endif

/* The nine taps of the 3x3 window at input row iy0, column ix0 (filter order): from in_px (the first
 * tap) when the window is inside the input, else each tap inside or, in the padding, zprow; with
 * zfull (zprow a whole input row of the zero point) a tap in a padded row but an input column at
 * that column of zprow, so that the taps of the pixels to its right are these plus a constant. */
static void dw3_taps(const int8_t **tap, const int8_t *in_px, int inside, const int8_t *in_b, int32_t iy0,
                     int32_t ix0, const enn_depthwise_conv2d_params *prm, const dw_ctx *k, const int8_t *zprow,
                     int zfull)
{
    int32_t t;
    if (inside) {
        for (t = 0; t < 9; t += 3, in_px += k->row_step) {
            tap[t] = in_px;
            tap[t + 1] = in_px + k->col_step;
            tap[t + 2] = in_px + 2 * k->col_step;
        }
    } else {
        for (t = 0; t < 9; t++) {
            const int32_t iy = iy0 + (t / 3) * prm->geom.dilation.h;
            const int32_t ix = ix0 + (t % 3) * prm->geom.dilation.w;
            if (ix < 0 || ix >= prm->input.w) {
                tap[t] = zprow;
            } else if (iy >= 0 && iy < prm->input.h) {
                tap[t] = in_b + (iy * prm->input.w + ix) * prm->input.c;
            } else {
                tap[t] = zfull ? zprow + ix * prm->input.c : zprow;
            }
        }
    }
}
#endif

#if defined(ENN_NEON)
/* All channels of one pixel of a 3x3 layer from its taps (dw3_taps) and folded biases kb: sixteen
 * and eight at a time (enn_dw3_pairs_neon), the rest one by one. */
static void dw3_pixel_neon(const dw_ctx *k, const int8_t *const *tap, const int8_t *w, const int32_t *kb, int8_t *out)
{
    int32_t c = 0;
#if defined(ENN_NEON_PAIRS)
    /* The pair kernel for one pixel: its requantization from the split shifts. */
    const int16x8_t off = vdupq_n_s16((int16_t)k->out_offset);
    const int8x16_t lo = vdupq_n_s8((int8_t)k->lo);
    const int8x16_t hi = vdupq_n_s8((int8_t)k->hi);
    if (k->right1) {
        for (; c + 16 <= k->ch; c += 16) {
            enn_dw3_two_neon(tap, 0, c, w, k->ch, kb, k->mult, k->left, k->right, off, lo, hi, out, out, 2, 1, 0);
        }
    }
    for (; c + 16 <= k->ch; c += 16) {
        enn_dw3_two_neon(tap, 0, c, w, k->ch, kb, k->mult, k->left, k->right, off, lo, hi, out, out, 2, 0, 0);
    }
#endif
    for (; c + 16 <= k->ch; c += 16) {
        enn_dw3_pairs_neon(tap, c, w, k->ch, kb, k->mult, k->shift32, k->out_offset, k->lo, k->hi, out, 2);
    }
    for (; c + 8 <= k->ch; c += 8) {
        enn_dw3_pairs_neon(tap, c, w, k->ch, kb, k->mult, k->shift32, k->out_offset, k->lo, k->hi, out, 1);
    }
    for (; c < k->ch; c++) {
        uint32_t acc = (uint32_t)kb[c];
        int32_t t;
        for (t = 0; t < 9; t++) {
            acc += (uint32_t)((int32_t)w[t * k->ch + c] * (int32_t)tap[t][c]);
        }
        out[c] = dw_out_any(k, (int32_t)acc, c);
    }
}
#endif

#if defined(ENN_NEON_PAIRS)
/* A run of `pixels` pixels of a 3x3 layer whose windows are inside the input horizontally, the
 * first with taps tap (advanced here; rows in the padding in the zero-point row), each next adv
 * bytes on: in pairs (enn_dw3_two_neon), an odd last one by dw3_pixel_neon. The second pixel's outputs lie below its first tap (the planner's rule) but may
 * cover the first pixel's top-left taps, still to be read for its later channels: through a stack
 * buffer then. */
static void dw3_run_neon(const dw_ctx *k, const int8_t **tap, int32_t adv, int32_t pixels, const int8_t *w,
                         const int32_t *kb, int8_t *out)
{
    const int32_t ch = k->ch;
    const int16x8_t off = vdupq_n_s16((int16_t)k->out_offset);
    const int8x16_t lo = vdupq_n_s8((int8_t)k->lo);
    const int8x16_t hi = vdupq_n_s8((int8_t)k->hi);
    int8_t later[DW_ZP_CH];
    int32_t t;
    for (; pixels >= 2; pixels -= 2, out += 2 * ch) {
        /* Only the first row of A's taps inside the input can lie below B's first tap. */
        int8_t *ob = enn_overlap(out + ch, (size_t)ch, tap[0], (size_t)adv) ||
                             enn_overlap(out + ch, (size_t)ch, tap[3], (size_t)adv) ||
                             enn_overlap(out + ch, (size_t)ch, tap[6], (size_t)adv)
                         ? later
                         : out + ch;
        int32_t c = 0;
        if (k->right1) {
            for (; c + 16 <= ch; c += 16) {
                enn_dw3_two_neon(tap, adv, c, w, ch, kb, k->mult, k->left, k->right, off, lo, hi, out, ob, 2, 1, 1);
            }
        } else {
            for (; c + 16 <= ch; c += 16) {
                enn_dw3_two_neon(tap, adv, c, w, ch, kb, k->mult, k->left, k->right, off, lo, hi, out, ob, 2, 0, 1);
            }
        }
        for (; c + 8 <= ch; c += 8) {
            enn_dw3_two_neon(tap, adv, c, w, ch, kb, k->mult, k->left, k->right, off, lo, hi, out, ob, 1, 0, 1);
        }
        for (; c < ch; c++) {
            uint32_t acc_a = (uint32_t)kb[c];
            uint32_t acc_b = acc_a;
            for (t = 0; t < 9; t++) {
                const int32_t wt = w[t * ch + c];
                acc_a += (uint32_t)(wt * (int32_t)tap[t][c]);
                acc_b += (uint32_t)(wt * (int32_t)tap[t][c + adv]);
            }
            out[c] = dw_out_any(k, (int32_t)acc_a, c);
            ob[c] = dw_out_any(k, (int32_t)acc_b, c);
        }
        if (ob == later) {
            enn_copy8(out + ch, later, ch);
        }
        for (t = 0; t < 9; t++) {
            tap[t] += 2 * adv;
        }
    }
    if (pixels > 0) {
        dw3_pixel_neon(k, tap, w, kb, out);
    }
}
#endif

/* A layer as enn_depthwise_conv2d set it up, for the row loop (dw_rows), on one thread or several. */
typedef struct {
    dw_ctx k;
    const enn_depthwise_conv2d_params *prm;
    const int8_t *input;
    const int8_t *filter;
    const int32_t *bias;
    int8_t *output;
    int fast_full;
#if defined(ENN_DSP_ASM) && !defined(ENN_MVE)
    int win3;              /* full 3x3 windows take dw_win3_dsp */
    const uint32_t *wext;  /* their extended filter (dw_ext3) */
#endif
#if defined(DW_TAPS)
    /* 3x3 layers of depth multiplier 1 with the biases folded: every pixel takes dw3_mve with these
     * records (Helium) or dw3_pixel_neon with these biases (NEON); or NULL */
    const int32_t *folded;
#endif
} dw_layer;

/* Output rows [r0, r1) of the layer (r = b * out_h + oy), the pixels of each in memory order. */
static void dw_rows(const dw_layer *L, int32_t r0, int32_t r1)
{
    const enn_depthwise_conv2d_params *prm = L->prm;
    const int8_t *input = L->input;
    const int8_t *filter = L->filter;
    const int32_t *bias = L->bias;
    int8_t *output = L->output;
    const dw_ctx k = L->k;
    const int32_t in_h = prm->input.h;
    const int32_t in_w = prm->input.w;
    const int32_t in_c = prm->input.c;
    const int32_t out_c = prm->output.c;
    const int32_t f_w = prm->geom.filter.w;
    const int32_t mult = prm->depth_multiplier;
    const int fast_full = L->fast_full;
#if defined(ENN_DSP_ASM) && !defined(ENN_MVE)
    const int win3 = L->win3;
    const uint32_t *wext = L->wext;
#endif
#if defined(DW_TAPS)
    /* Taps in the padding read a row of the input zero point: filter * (zero point + offset) = 0,
     * as the folded biases assume for every tap. */
#if defined(ENN_NEON_PAIRS)
    /* A whole row of it where one fits (dw3_run_neon: the runs of the top and bottom rows). */
    int8_t zprow[DW_ZP_ROW > DW_ZP_CH ? DW_ZP_ROW : DW_ZP_CH];
    const int zfull = in_w * in_c <= DW_ZP_ROW;
#else
    int8_t zprow[DW_ZP_CH];
#endif
    if (L->folded != 0) {
#if defined(ENN_NEON_PAIRS)
        enn_fill8(zprow, (int8_t)(-k.offset), zfull ? in_w * in_c : in_c);
#else
        enn_fill8(zprow, (int8_t)(-k.offset), in_c);
#endif
    }
#endif
#if defined(ENN_NEON)
    const int8_t *tap[9];
#endif
#if defined(DW_MVE_ASM)
    dw3_mve_job job;
    if (L->folded != 0) {
        job.mq = L->folded;
        job.groups = out_c >> 4;
        job.rest = out_c & 15;
        job.out_offset = k.out_offset;
        job.lo = k.lo;
        job.hi = k.hi;
        job.adv_in = prm->geom.stride.w * in_c - 16 * ((out_c + 15) >> 4);
        job.adv_out = out_c - 16 * ((out_c + 15) >> 4);
    }
#endif
    int32_t r;
    output += r0 * prm->output.w * out_c;
    for (r = r0; r < r1; r++) {
        const int32_t b = r / prm->output.h;
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        const int32_t oy = r - b * prm->output.h;
        {
            const int32_t iy0 = oy * prm->geom.stride.h - prm->geom.padding.h;
            int32_t ky_lo;
            int32_t ky_hi;
            int32_t ox;
            enn_tap_range(iy0, prm->geom.dilation.h, in_h, prm->geom.filter.h, &ky_lo, &ky_hi);
            for (ox = 0; ox < prm->output.w; ox++, output += out_c) {
                const int32_t ix0 = ox * prm->geom.stride.w - prm->geom.padding.w;
                int32_t kx_lo;
                int32_t kx_hi;
                int32_t n_ky = ky_hi - ky_lo;
                int32_t n_kx;
                const int8_t *in_px = in_b;
                const int8_t *w_px = filter;
                enn_tap_range(ix0, prm->geom.dilation.w, in_w, f_w, &kx_lo, &kx_hi);
                n_kx = kx_hi - kx_lo;
                if (n_ky == 0 || n_kx == 0) {
                    n_ky = 0;
                    n_kx = 0;
                } else {
                    /* First valid tap of the window, in the input and in the filter. */
                    in_px += ((iy0 + ky_lo * prm->geom.dilation.h) * in_w + ix0 + kx_lo * prm->geom.dilation.w) * in_c;
                    w_px += (ky_lo * f_w + kx_lo) * out_c;
                }
                if (mult == 1) {
#if defined(DW_MVE_ASM)
                    if (L->folded != 0) {
                        job.pixels = 1;
                        if (n_ky == 3 && n_kx == 3) {
                            /* This pixel and the next ones whose windows are inside the input: one run. */
                            job.pixels = enn_inside_run(ox, prm->output.w, in_w, 3, prm->geom.dilation.w,
                                                        prm->geom.padding.w, prm->geom.stride.w);
                        }
                        dw3_taps(job.tap, in_px, n_ky == 3 && n_kx == 3, in_b, iy0, ix0, prm, &k, zprow, 0);
                        job.out = output;
                        dw3_mve(&job);
                        ox += job.pixels - 1;
                        output += (job.pixels - 1) * out_c;
                        continue;
                    }
#endif
#if defined(ENN_NEON_PAIRS)
                    if (L->folded != 0 && n_kx == 3 && (n_ky == 3 || zfull)) {
                        /* This pixel and the next ones whose windows are inside the input
                         * horizontally (rows in the padding read the zero-point row): one run. */
                        const int32_t pixels = enn_inside_run(ox, prm->output.w, in_w, 3, prm->geom.dilation.w,
                                                              prm->geom.padding.w, prm->geom.stride.w);
                        dw3_taps(tap, in_px, n_ky == 3, in_b, iy0, ix0, prm, &k, zprow, zfull);
                        dw3_run_neon(&k, tap, prm->geom.stride.w * in_c, pixels, filter, L->folded, output);
                        ox += pixels - 1;
                        output += (pixels - 1) * out_c;
                        continue;
                    }
#endif
#if defined(ENN_NEON)
                    if (L->folded != 0) {
                        dw3_taps(tap, in_px, n_ky == 3 && n_kx == 3, in_b, iy0, ix0, prm, &k, zprow, 0);
                        dw3_pixel_neon(&k, tap, filter, L->folded, output);
                        continue;
                    }
#endif
#if defined(ENN_DSP_ASM) && !defined(ENN_MVE)
                    if (win3 && n_ky == 3 && n_kx == 3) {
                        dw_win3_dsp(&k, in_px, wext, output);
                        continue;
                    }
                    if (win3 && n_ky > 0) {
                        const int32_t tofs = 8 * (ky_lo * 3 + kx_lo);
                        if (n_kx == 3) {
                            dw_part3_dsp3(&k, in_px, wext, tofs, n_ky, output);
                        } else if (n_kx == 2) {
                            dw_part3_dsp2(&k, in_px, wext, tofs, n_ky, output);
                        } else {
                            dw_part3_dsp1(&k, in_px, wext, tofs, n_ky, output);
                        }
                        continue;
                    }
#endif
                    if (fast_full) {
                        dw_pixel_fast(&k, in_px, w_px, n_ky, n_kx, output);
                    } else {
                        dw_pixel_any(&k, in_px, w_px, n_ky, n_kx, output);
                    }
                } else {
                    int32_t oc;
                    for (oc = 0; oc < out_c; oc++) {
                        const int8_t *x_row = in_px + oc / mult;
                        const int8_t *w_row = w_px + oc;
                        uint32_t acc = bias != 0 ? (uint32_t)bias[oc] : 0u;
                        int32_t ky;
                        for (ky = 0; ky < n_ky; ky++, x_row += k.row_step, w_row += k.w_row) {
                            const int8_t *x = x_row;
                            const int8_t *w = w_row;
                            int32_t kx;
                            for (kx = 0; kx < n_kx; kx++, x += k.col_step, w += out_c) {
                                acc += (uint32_t)((int32_t)*w * ((int32_t)*x + k.offset));
                            }
                        }
                        output[oc] = dw_out_any(&k, (int32_t)acc, oc);
                    }
                }
            }
        }
    }
}

#if ENN_THREADS > 1
/* A thread's share of the rows (enn_parallel_rows). */
static void dw_task(void *ctx, int32_t r0, int32_t r1)
{
    dw_rows((const dw_layer *)ctx, r0, r1);
}
#endif

void enn_depthwise_conv2d(const enn_depthwise_conv2d_params *prm, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, int8_t *output)
{
    const int32_t in_w = prm->input.w;
    const int32_t in_c = prm->input.c;
    const int32_t out_c = prm->output.c;
    const int32_t f_w = prm->geom.filter.w;
    dw_ctx k;
    int fast_full;
#if defined(ENN_NEON)
    int32_t shift32[DW_SHIFT32];
#endif
#if defined(ENN_NEON_PAIRS)
    int32_t left[DW_SHIFT32];
    int32_t right[DW_SHIFT32];
#endif
#if defined(ENN_DSP_ASM) && !defined(ENN_MVE)
    int win3; /* full 3x3 windows take dw_win3_dsp */
    uint32_t wext[DW3_WORDS * DW_EXT_CH / 4];
#endif
    k.bias = bias;
    k.mult = prm->quant.multiplier;
    k.shift = prm->quant.shift;
    k.rsh = prm->quant.rshift;
#if defined(ENN_NEON)
    k.shift32 = enn_shifts32_neon(k.shift, out_c, shift32, DW_SHIFT32);
#endif
#if defined(ENN_NEON_PAIRS)
    k.left = left;
    k.right = right;
    k.right1 = 1;
    if (k.shift32 != 0) {
        int32_t c;
        for (c = 0; c < out_c; c++) {
            k.right1 &= shift32[c] <= -1;
            /* cppcheck-suppress unreadVariable ; read through k.left (a false positive of cppcheck 2.10) */
            left[c] = shift32[c] > 0 ? shift32[c] : 0;
            /* cppcheck-suppress unreadVariable ; read through k.right */
            right[c] = shift32[c] < 0 ? shift32[c] : 0;
        }
    }
#endif
    k.ch = out_c;
    k.row_step = prm->geom.dilation.h * in_w * in_c;
    k.col_step = prm->geom.dilation.w * in_c;
    k.w_row = f_w * out_c;
    k.offset = prm->input_offset;
    k.out_offset = prm->output_offset;
    k.lo = prm->act.min;
    k.hi = prm->act.max;
    k.fast = enn_rq_layer_ok(k.mult, k.shift, out_c);
    k.full = k.lo == -128 && k.hi == 127;
    k.window3 = prm->geom.filter.h == 3 && f_w == 3 && prm->geom.dilation.h == 1 && prm->geom.dilation.w == 1;
#if !defined(ENN_MVE)
    k.c2 = 2 * k.out_offset + 1;
#endif
    /* The common layers' requantization (enn_rq8): clamp to the int8 range. */
    fast_full = k.fast && k.full;
#if defined(ENN_DSP_ASM) && !defined(ENN_MVE)
    win3 = fast_full && k.window3 && prm->depth_multiplier == 1 && bias != 0 && (out_c & 3) == 0 &&
           out_c <= DW_EXT_CH;
    if (win3) {
        dw_ext3(&k, filter, out_c, wext);
    }
#endif

    {
        dw_layer L;
        const int32_t rows = prm->input.n * prm->output.h;
        L.k = k;
        L.prm = prm;
        L.input = input;
        L.filter = filter;
        L.bias = bias;
        L.output = output;
        L.fast_full = fast_full;
#if defined(ENN_DSP_ASM) && !defined(ENN_MVE)
        L.win3 = win3;
        L.wext = wext;
#endif
#if defined(DW_TAPS)
        {
#if defined(DW_MVE_ASM)
            const int32_t *folded = prm->mq;
#else
            const int32_t *folded = k.shift32 != 0 ? prm->kb : 0; /* enn_dw3_pairs_neon takes the int32 shifts */
#endif
            L.folded = prm->depth_multiplier == 1 && prm->geom.filter.h == 3 && f_w == 3 && out_c <= DW_ZP_CH
                           ? folded
                           : 0;
        }
#endif
#if ENN_THREADS > 1
        /* Large layers on several threads, by rows, unless the output overlaps the input. */
        if (rows > 1 && (int64_t)rows * prm->output.w * out_c * prm->geom.filter.h * f_w >= ENN_PARALLEL_MACS &&
            !enn_overlap(input, (size_t)prm->input.n * prm->input.h * in_w * in_c, output,
                         (size_t)rows * prm->output.w * out_c)) {
            enn_parallel_rows(dw_task, &L, rows);
            return;
        }
#endif
        dw_rows(&L, 0, rows);
    }
}
