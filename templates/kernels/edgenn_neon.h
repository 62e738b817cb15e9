/* NEON (AArch64: Raspberry Pi 3/4/5 with a 64-bit OS; 32-bit NEON on the armhf Pis) helpers of
 * the fast kernel paths: the int8 inner products of convolutions and fully connected layers,
 * depthwise convolution sixteen channels per step, and TFLM's requantization in int32 lanes.
 * Included at the end of edgenn_simd.h when ENN_NEON is defined; every helper computes exactly
 * what the portable C in the kernels computes (int32 wrap-around accumulators, then
 * MultiplyByQuantizedMultiplier with TFLM's double rounding).
 *
 * Products of two int8 are exact in int16 (|x w| <= 2^14); SMULL makes eight of them, SADALP adds
 * their pairs into int32 lanes (no intermediate int16 sums, so that -128 weights are safe). Cores
 * with the dot product extension (__ARM_FEATURE_DOTPROD: Cortex-A76, Pi 5) use SDOT, sixteen MACs
 * per instruction. The input offset is taken out of the inner loop:
 * sum w (x + offset) = sum w x + offset sum w, with each filter's sum from a table (ksum). */
#ifndef EDGENN_NEON_H
#define EDGENN_NEON_H

#include "edgenn_prefix.h"

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "edgenn_fixedpoint.h"
#include "edgenn_simd.h"

/* Six AArch64-only intrinsics, from 32-bit NEON on the armhf Pis (the same lanes, the same results). */
#if defined(__aarch64__)
#define enn_mull_high_s8 vmull_high_s8
#define enn_mlal_high_s8 vmlal_high_s8
#define enn_mlal_high_n_s16 vmlal_high_n_s16
#define enn_movl_high_s16 vmovl_high_s16
#define enn_mlal_high_s16 vmlal_high_s16
#define enn_paddq_s32 vpaddq_s32
#else
static inline int16x8_t enn_mull_high_s8(int8x16_t a, int8x16_t b)
{
    return vmull_s8(vget_high_s8(a), vget_high_s8(b));
}

static inline int16x8_t enn_mlal_high_s8(int16x8_t acc, int8x16_t a, int8x16_t b)
{
    return vmlal_s8(acc, vget_high_s8(a), vget_high_s8(b));
}

static inline int32x4_t enn_mlal_high_n_s16(int32x4_t acc, int16x8_t a, int16_t b)
{
    return vmlal_n_s16(acc, vget_high_s16(a), b);
}

static inline int32x4_t enn_movl_high_s16(int16x8_t a)
{
    return vmovl_s16(vget_high_s16(a));
}

static inline int32x4_t enn_mlal_high_s16(int32x4_t acc, int16x8_t a, int16x8_t b)
{
    return vmlal_s16(acc, vget_high_s16(a), vget_high_s16(b));
}

/* Pairwise sums of a's lanes then b's: (a0 + a1, a2 + a3, b0 + b1, b2 + b3). */
static inline int32x4_t enn_paddq_s32(int32x4_t a, int32x4_t b)
{
    return vcombine_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)), vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
}
#endif

/* TFLM's MultiplyByQuantizedMultiplier in int32 lanes, exact for every shift -31..31 (gemmlowp's
 * own NEON form): SQRDMULH is SaturatingRoundingDoublingHighMul (saturation included), and
 * RoundingDivideByPOT is a rounding shift right (SRSHL by -r: (v + 2^(r-1)) >> r computed without
 * overflow) of v - [v < 0] (saturating; the sign bit of v & -r): negative halves round away from
 * zero. A left shift (shift > 0) wraps, as TFLM's. */
static inline int32x4_t enn_mbqm4_neon(int32x4_t acc, int32x4_t multiplier, int32x4_t shift)
{
    const int32x4_t right = vminq_s32(shift, vdupq_n_s32(0)); /* -r, or 0 */
    const int32x4_t left = vmaxq_s32(shift, vdupq_n_s32(0));
    const int32x4_t v = vqrdmulhq_s32(vshlq_s32(acc, left), multiplier);
    return vrshlq_s32(vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, right), 31)), right);
}

/* A layer's n byte-wide per-channel shifts widened to int32 into buf (of cap values), once per call
 * instead of at every pixel; NULL when they do not fit (the kernels then widen four at a time). */
static inline const int32_t *enn_shifts32_neon(const int8_t *s, int32_t n, int32_t *buf, int32_t cap)
{
    int32_t i;
    if (n > cap) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        buf[i] = s[i];
    }
    return buf;
}

/* Four int8 values (per-channel shifts) as int32 lanes, reading exactly their four bytes. */
static inline int32x4_t enn_widen4_neon(const int8_t *p)
{
    int32_t w;
    memcpy(&w, p, 4);
    return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(w)))));
}

/* Four accumulators requantized with multipliers mv and shifts sv, plus the output offset, clamped
 * to [lo, hi] (within int8), as int16 lanes. */
static inline int16x4_t enn_requant4v_neon(int32x4_t acc, int32x4_t mv, int32x4_t sv, int32_t offset, int32_t lo,
                                           int32_t hi)
{
    int32x4_t v = vaddq_s32(enn_mbqm4_neon(acc, mv, sv), vdupq_n_s32(offset));
    v = vminq_s32(vmaxq_s32(v, vdupq_n_s32(lo)), vdupq_n_s32(hi));
    return vmovn_s32(v);
}

/* enn_requant4v_neon per_channel (their own multiplier and shift) or not (m[0], s[0] for all). */
static inline int16x4_t enn_requant4_neon(int32x4_t acc, const int32_t *m, const int8_t *s, int per_channel,
                                          int32_t offset, int32_t lo, int32_t hi)
{
    const int32x4_t mv = per_channel ? vld1q_s32(m) : vdupq_n_s32(m[0]);
    const int32x4_t sv = per_channel ? enn_widen4_neon(s) : vdupq_n_s32(s[0]);
    return enn_requant4v_neon(acc, mv, sv, offset, lo, hi);
}

/* Eight channels' accumulators (a0: channels 0-3, a1: 4-7) requantized with their own multipliers
 * and shifts, as eight bytes: the eight byte-wide shifts widened together (one load, three SXTL),
 * which four at a time cost twice the instructions. */
static inline int8x8_t enn_requant8_neon(int32x4_t a0, int32x4_t a1, const int32_t *m, const int8_t *s,
                                         int32_t offset, int32_t lo, int32_t hi)
{
    const int16x8_t s16 = vmovl_s8(vld1_s8(s));
    return vmovn_s16(vcombine_s16(
        enn_requant4v_neon(a0, vld1q_s32(m), vmovl_s16(vget_low_s16(s16)), offset, lo, hi),
        enn_requant4v_neon(a1, vld1q_s32(m + 4), enn_movl_high_s16(s16), offset, lo, hi)));
}

/* One output byte the scalar way (tails): enn_mbqm, offset, clamp. */
static inline int8_t enn_out1_neon(int32_t acc, int32_t m, int32_t s, int32_t offset, int32_t lo, int32_t hi)
{
    const int32_t v = enn_mbqm(acc, m, (int)s) + offset;
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

/* The values [i, n) after the sixteen-value steps (fewer than sixteen) added to the accumulators
 * a0..a3 of the four filters w_j = w + j * w_stride, then their lanes summed: lane j of the
 * result = sum_{k < n} w_j[k] x[k] (int32 wrap-around). */
ENN_INLINE int32x4_t enn_dot4_rest_neon(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3, const int8_t *x,
                                        const int8_t *w, int32_t w_stride, int32_t n, int32_t i)
{
    const int8_t *w1 = w + w_stride;
    const int8_t *w2 = w1 + w_stride;
    const int8_t *w3 = w2 + w_stride;
    uint32_t t0 = 0;
    uint32_t t1 = 0;
    uint32_t t2 = 0;
    uint32_t t3 = 0;
    int32x4_t r;
    if (i + 8 <= n) {
        const int8x8_t xl = vld1_s8(x + i);
        a0 = vpadalq_s16(a0, vmull_s8(xl, vld1_s8(w + i)));
        a1 = vpadalq_s16(a1, vmull_s8(xl, vld1_s8(w1 + i)));
        a2 = vpadalq_s16(a2, vmull_s8(xl, vld1_s8(w2 + i)));
        a3 = vpadalq_s16(a3, vmull_s8(xl, vld1_s8(w3 + i)));
        i += 8;
    }
    if (i < n && n >= 8) {
        /* The last n - i (1..7) bytes: eight loaded ending at n, the lanes already counted masked
         * out of the input (so the loads stay inside each filter). */
        const uint8x8_t keep = vcge_u8(vcreate_u8(0x0706050403020100ull), vdup_n_u8((uint8_t)(8 - (n - i))));
        const int8x8_t xl = vand_s8(vld1_s8(x + n - 8), vreinterpret_s8_u8(keep));
        a0 = vpadalq_s16(a0, vmull_s8(xl, vld1_s8(w + n - 8)));
        a1 = vpadalq_s16(a1, vmull_s8(xl, vld1_s8(w1 + n - 8)));
        a2 = vpadalq_s16(a2, vmull_s8(xl, vld1_s8(w2 + n - 8)));
        a3 = vpadalq_s16(a3, vmull_s8(xl, vld1_s8(w3 + n - 8)));
        i = n;
    }
    for (; i < n; i++) {
        const int32_t v = x[i];
        t0 += (uint32_t)(w[i] * v);
        t1 += (uint32_t)(w1[i] * v);
        t2 += (uint32_t)(w2[i] * v);
        t3 += (uint32_t)(w3[i] * v);
    }
    /* Pairwise sums: lane j = all lanes of a_j. */
    r = enn_paddq_s32(enn_paddq_s32(a0, a1), enn_paddq_s32(a2, a3));
    if (t0 | t1 | t2 | t3) {
        const uint32_t t[4] = {t0, t1, t2, t3};
        r = vreinterpretq_s32_u32(vaddq_u32(vreinterpretq_u32_s32(r), vld1q_u32(t)));
    }
    return r;
}

/* SMULL then SMLAL2 of sixteen values into one int16 vector, for filters without -128 (two
 * products of int8 inputs then fit an int16: |x w| <= 128 * 127 = 16,256). */
#define ENN_MUL16_NOMIN(XV, XL, V) enn_mlal_high_s8(vmull_s8(XL, vget_low_s8(V)), XV, V)

/* One sixteen-value step of the four accumulators A0..A3 of column XV with the filter vectors
 * V0..V3: ENN_STEP4_NOMIN (no -128 in the filters: SMULL + SMLAL2 + SADALP), ENN_STEP4 (SDOT, or
 * SMULL, SMULL2 and two SADALP). */
#define ENN_STEP4_NOMIN(A0, A1, A2, A3, XV, V0, V1, V2, V3)                                        \
    do {                                                                                           \
        const int8x8_t xl_ = vget_low_s8(XV);                                                      \
        A0 = vpadalq_s16(A0, ENN_MUL16_NOMIN(XV, xl_, V0));                                        \
        A1 = vpadalq_s16(A1, ENN_MUL16_NOMIN(XV, xl_, V1));                                        \
        A2 = vpadalq_s16(A2, ENN_MUL16_NOMIN(XV, xl_, V2));                                        \
        A3 = vpadalq_s16(A3, ENN_MUL16_NOMIN(XV, xl_, V3));                                        \
    } while (0)
#if defined(__ARM_FEATURE_DOTPROD)
#define ENN_STEP4(A0, A1, A2, A3, XV, V0, V1, V2, V3)                                              \
    do {                                                                                           \
        A0 = vdotq_s32(A0, XV, V0);                                                                \
        A1 = vdotq_s32(A1, XV, V1);                                                                \
        A2 = vdotq_s32(A2, XV, V2);                                                                \
        A3 = vdotq_s32(A3, XV, V3);                                                                \
    } while (0)
#else
#define ENN_STEP4(A0, A1, A2, A3, XV, V0, V1, V2, V3)                                              \
    do {                                                                                           \
        const int8x8_t xl_ = vget_low_s8(XV);                                                      \
        A0 = vpadalq_s16(vpadalq_s16(A0, vmull_s8(xl_, vget_low_s8(V0))), enn_mull_high_s8(XV, V0)); \
        A1 = vpadalq_s16(vpadalq_s16(A1, vmull_s8(xl_, vget_low_s8(V1))), enn_mull_high_s8(XV, V1)); \
        A2 = vpadalq_s16(vpadalq_s16(A2, vmull_s8(xl_, vget_low_s8(V2))), enn_mull_high_s8(XV, V2)); \
        A3 = vpadalq_s16(vpadalq_s16(A3, vmull_s8(xl_, vget_low_s8(V3))), enn_mull_high_s8(XV, V3)); \
    } while (0)
#endif

/* The raw inner products sum_{i < n} w_j[i] x[i] of four filters w_j = w + j * w_stride, as the
 * lanes j of the result (int32 wrap-around), without any offset. no_min: no weight is -128, so
 * that without SDOT one SADALP per filter and sixteen values takes SMULL + SMLAL2 (ENN_STEP4_NOMIN):
 * three instructions instead of four. */
static inline int32x4_t enn_dot4_neon(const int8_t *x, const int8_t *w, int32_t w_stride, int32_t n, int no_min)
{
    const int8_t *w1 = w + w_stride;
    const int8_t *w2 = w1 + w_stride;
    const int8_t *w3 = w2 + w_stride;
    int32x4_t a0 = vdupq_n_s32(0);
    int32x4_t a1 = vdupq_n_s32(0);
    int32x4_t a2 = vdupq_n_s32(0);
    int32x4_t a3 = vdupq_n_s32(0);
    int32_t i = 0;
#if !defined(__ARM_FEATURE_DOTPROD)
    if (no_min) {
        for (; i + 16 <= n; i += 16) {
            const int8x16_t xv = vld1q_s8(x + i);
            ENN_STEP4_NOMIN(a0, a1, a2, a3, xv, vld1q_s8(w + i), vld1q_s8(w1 + i), vld1q_s8(w2 + i), vld1q_s8(w3 + i));
        }
    }
#else
    (void)no_min;
#endif
    for (; i + 16 <= n; i += 16) {
        const int8x16_t xv = vld1q_s8(x + i);
        ENN_STEP4(a0, a1, a2, a3, xv, vld1q_s8(w + i), vld1q_s8(w1 + i), vld1q_s8(w2 + i), vld1q_s8(w3 + i));
    }
    return enn_dot4_rest_neon(a0, a1, a2, a3, x, w, w_stride, n, i);
}

#if defined(__aarch64__)
/* Two columns at a time only on AArch64: its 32 vector registers hold both columns' eight
 * accumulators with the four filter vectors; the armhf Pis' 16 would spill. */
#define ENN_NEON_PAIRS 1

/* enn_dot4_neon of two columns xa, xb with the same filters: each filter vector loaded serves both
 * (a pointwise or gathered convolution's pixels in pairs). */
ENN_INLINE void enn_dot4x2_neon(const int8_t *xa, const int8_t *xb, const int8_t *w, int32_t w_stride, int32_t n,
                                int no_min, int32x4_t *ra, int32x4_t *rb)
{
    const int8_t *w1 = w + w_stride;
    const int8_t *w2 = w1 + w_stride;
    const int8_t *w3 = w2 + w_stride;
    int32x4_t a0 = vdupq_n_s32(0);
    int32x4_t a1 = vdupq_n_s32(0);
    int32x4_t a2 = vdupq_n_s32(0);
    int32x4_t a3 = vdupq_n_s32(0);
    int32x4_t b0 = vdupq_n_s32(0);
    int32x4_t b1 = vdupq_n_s32(0);
    int32x4_t b2 = vdupq_n_s32(0);
    int32x4_t b3 = vdupq_n_s32(0);
    int32_t i = 0;
#if !defined(__ARM_FEATURE_DOTPROD)
    if (no_min) {
        for (; i + 16 <= n; i += 16) {
            const int8x16_t xv = vld1q_s8(xa + i);
            const int8x16_t yv = vld1q_s8(xb + i);
            const int8x16_t v0 = vld1q_s8(w + i);
            const int8x16_t v1 = vld1q_s8(w1 + i);
            const int8x16_t v2 = vld1q_s8(w2 + i);
            const int8x16_t v3 = vld1q_s8(w3 + i);
            ENN_STEP4_NOMIN(a0, a1, a2, a3, xv, v0, v1, v2, v3);
            ENN_STEP4_NOMIN(b0, b1, b2, b3, yv, v0, v1, v2, v3);
        }
    }
#else
    (void)no_min;
#endif
    for (; i + 16 <= n; i += 16) {
        const int8x16_t xv = vld1q_s8(xa + i);
        const int8x16_t yv = vld1q_s8(xb + i);
        const int8x16_t v0 = vld1q_s8(w + i);
        const int8x16_t v1 = vld1q_s8(w1 + i);
        const int8x16_t v2 = vld1q_s8(w2 + i);
        const int8x16_t v3 = vld1q_s8(w3 + i);
        ENN_STEP4(a0, a1, a2, a3, xv, v0, v1, v2, v3);
        ENN_STEP4(b0, b1, b2, b3, yv, v0, v1, v2, v3);
    }
    *ra = enn_dot4_rest_neon(a0, a1, a2, a3, xa, w, w_stride, n, i);
    *rb = enn_dot4_rest_neon(b0, b1, b2, b3, xb, w, w_stride, n, i);
}
#endif

#if defined(ENN_NEON_PAIRS)
/* enn_dot4_neon of eight filters (lanes of r0: filters 0-3, of r1: 4-7): each input vector loaded
 * serves eight (a fully connected layer's single column; 32 vector registers hold the eight
 * accumulators with the filter vectors): 9 loads per 128 MACs instead of 10. */
ENN_INLINE void enn_dot8_neon(const int8_t *x, const int8_t *w, int32_t w_stride, int32_t n, int no_min,
                              int32x4_t *r0, int32x4_t *r1)
{
    const int8_t *w4 = w + 4 * w_stride;
    int32x4_t a0 = vdupq_n_s32(0);
    int32x4_t a1 = vdupq_n_s32(0);
    int32x4_t a2 = vdupq_n_s32(0);
    int32x4_t a3 = vdupq_n_s32(0);
    int32x4_t a4 = vdupq_n_s32(0);
    int32x4_t a5 = vdupq_n_s32(0);
    int32x4_t a6 = vdupq_n_s32(0);
    int32x4_t a7 = vdupq_n_s32(0);
    int32_t i = 0;
#if !defined(__ARM_FEATURE_DOTPROD)
    if (no_min) {
        for (; i + 16 <= n; i += 16) {
            const int8x16_t xv = vld1q_s8(x + i);
            ENN_STEP4_NOMIN(a0, a1, a2, a3, xv, vld1q_s8(w + i), vld1q_s8(w + w_stride + i),
                            vld1q_s8(w + 2 * w_stride + i), vld1q_s8(w + 3 * w_stride + i));
            ENN_STEP4_NOMIN(a4, a5, a6, a7, xv, vld1q_s8(w4 + i), vld1q_s8(w4 + w_stride + i),
                            vld1q_s8(w4 + 2 * w_stride + i), vld1q_s8(w4 + 3 * w_stride + i));
        }
    }
#else
    (void)no_min;
#endif
    for (; i + 16 <= n; i += 16) {
        const int8x16_t xv = vld1q_s8(x + i);
        ENN_STEP4(a0, a1, a2, a3, xv, vld1q_s8(w + i), vld1q_s8(w + w_stride + i), vld1q_s8(w + 2 * w_stride + i),
                  vld1q_s8(w + 3 * w_stride + i));
        ENN_STEP4(a4, a5, a6, a7, xv, vld1q_s8(w4 + i), vld1q_s8(w4 + w_stride + i), vld1q_s8(w4 + 2 * w_stride + i),
                  vld1q_s8(w4 + 3 * w_stride + i));
    }
    *r0 = enn_dot4_rest_neon(a0, a1, a2, a3, x, w, w_stride, n, i);
    *r1 = enn_dot4_rest_neon(a4, a5, a6, a7, x, w4, w_stride, n, i);
}
#endif

#if defined(ENN_NEON_PAIRS)
/* One step of filter J (vector V) with both columns of enn_dot8x2_neon: ENN_PAIR_NOMIN (no -128 in
 * the filters: SMULL + SMLAL2 + SADALP per column), ENN_PAIR (SDOT, or SMULL, SMULL2, two SADALP). */
#define ENN_PAIR_NOMIN(J, V)                                                                       \
    do {                                                                                           \
        a[J] = vpadalq_s16(a[J], ENN_MUL16_NOMIN(xv, xl, V));                                      \
        b[J] = vpadalq_s16(b[J], ENN_MUL16_NOMIN(yv, yl, V));                                      \
    } while (0)
/* The first step: the sums start from the pairs (SADDLP), not from zeroed registers. */
#define ENN_PAIR_NOMIN_FIRST(J, V)                                                                 \
    do {                                                                                           \
        a[J] = vpaddlq_s16(ENN_MUL16_NOMIN(xv, xl, V));                                            \
        b[J] = vpaddlq_s16(ENN_MUL16_NOMIN(yv, yl, V));                                            \
    } while (0)
#if defined(__ARM_FEATURE_DOTPROD)
#define ENN_PAIR(J, V)                                                                             \
    do {                                                                                           \
        a[J] = vdotq_s32(a[J], xv, V);                                                             \
        b[J] = vdotq_s32(b[J], yv, V);                                                             \
    } while (0)
#else
#define ENN_PAIR(J, V)                                                                             \
    do {                                                                                           \
        a[J] = vpadalq_s16(vpadalq_s16(a[J], vmull_s8(xl, vget_low_s8(V))), enn_mull_high_s8(xv, V)); \
        b[J] = vpadalq_s16(vpadalq_s16(b[J], vmull_s8(yl, vget_low_s8(V))), enn_mull_high_s8(yv, V)); \
    } while (0)
#endif

/* One sixteen-value step of four packed filters (64 bytes at p, advanced) with the columns xv and
 * yv into the sums a[J..J+3] and b[J..J+3], in asm: FILTER ENN_GEMM_ASM_FILTER (no weight -128:
 * SMULL + SMLAL2 + SADALP) or ENN_GEMM_ASM_FILTER_ANY (SMULL, SMULL2, two SADALP). gcc's schedule
 * of the same intrinsics keeps more products in flight than 32 registers hold with sixteen sums
 * and spills four sums every step (68 instructions per step of eight filters instead of 55). Four
 * filters per statement: an asm takes at most 30 operands. */
#define ENN_GEMM_ASM_FILTER(V, A, B)                                                               \
    "smull v4.8h, %[x].8b, " V ".8b\n\t"                                                          \
    "smull v5.8h, %[y].8b, " V ".8b\n\t"                                                          \
    "smlal2 v4.8h, %[x].16b, " V ".16b\n\t"                                                       \
    "smlal2 v5.8h, %[y].16b, " V ".16b\n\t"                                                       \
    "sadalp %[" A "].4s, v4.8h\n\t"                                                              \
    "sadalp %[" B "].4s, v5.8h\n\t"
#define ENN_GEMM_ASM_FILTER_ANY(V, A, B)                                                           \
    "smull v4.8h, %[x].8b, " V ".8b\n\t"                                                          \
    "smull2 v5.8h, %[x].16b, " V ".16b\n\t"                                                       \
    "sadalp %[" A "].4s, v4.8h\n\t"                                                              \
    "sadalp %[" A "].4s, v5.8h\n\t"                                                              \
    "smull v4.8h, %[y].8b, " V ".8b\n\t"                                                          \
    "smull2 v5.8h, %[y].16b, " V ".16b\n\t"                                                       \
    "sadalp %[" B "].4s, v4.8h\n\t"                                                              \
    "sadalp %[" B "].4s, v5.8h\n\t"
#define ENN_GEMM_ASM4(J, FILTER)                                                                   \
    __asm__("ld1 {v0.16b-v3.16b}, [%[p]], #64\n\t"                                                \
            FILTER("v0", "a0", "b0") FILTER("v1", "a1", "b1")                                      \
            FILTER("v2", "a2", "b2") FILTER("v3", "a3", "b3")                                      \
            : [a0] "+w"(a[J]), [a1] "+w"(a[J + 1]), [a2] "+w"(a[J + 2]), [a3] "+w"(a[J + 3]),       \
              [b0] "+w"(b[J]), [b1] "+w"(b[J + 1]), [b2] "+w"(b[J + 2]), [b3] "+w"(b[J + 3]), [p] "+r"(p) \
            : [x] "w"(xv), [y] "w"(yv), "m"(*(const int8_t(*)[64])p)                                \
            : "v0", "v1", "v2", "v3", "v4", "v5")

/* The eight-value step of eight packed filters (64 bytes at p: filter 2 j in the low half of
 * register j, 2 j + 1 in the high half) with a column's eight values xl, into the sums a[0..7]
 * (first: starting them); one product per lane, safe with any weight. */
ENN_INLINE void enn_last8_neon(int32x4_t a[8], int8x8_t xl, const int8_t *p, const int first)
{
    const int8x16x4_t v = vld1q_s8_x4(p);
    int j;
    for (j = 0; j < 4; j++) {
        const int16x8_t lo = vmull_s8(xl, vget_low_s8(v.val[j]));
        const int16x8_t hi = vmull_s8(xl, vget_high_s8(v.val[j]));
        a[2 * j] = first ? vpaddlq_s16(lo) : vpadalq_s16(a[2 * j], lo);
        a[2 * j + 1] = first ? vpaddlq_s16(hi) : vpadalq_s16(a[2 * j + 1], hi);
    }
}

/* One sixteen-value step of eight packed filters (128 bytes at p) with the columns xv and yv into
 * the sums a[j] and b[j]: any weights (SDOT, or SMULL, SMULL2 and two SADALP), or with first_nomin
 * the first step of filters without -128, starting the sums (ENN_PAIR_NOMIN_FIRST). */
ENN_INLINE void enn_step8x2_neon(int32x4_t a[8], int32x4_t b[8], int8x16_t xv, int8x16_t yv, const int8_t *p,
                                 const int first_nomin)
{
#if !defined(__ARM_FEATURE_DOTPROD)
    const int8x8_t xl = vget_low_s8(xv);
    const int8x8_t yl = vget_low_s8(yv);
#endif
    const int8x16x4_t v0 = vld1q_s8_x4(p);
    const int8x16x4_t v1 = vld1q_s8_x4(p + 64);
#define ENN_STEP8(M)                                                                               \
    M(0, v0.val[0]);                                                                               \
    M(1, v0.val[1]);                                                                               \
    M(2, v0.val[2]);                                                                               \
    M(3, v0.val[3]);                                                                               \
    M(4, v1.val[0]);                                                                               \
    M(5, v1.val[1]);                                                                               \
    M(6, v1.val[2]);                                                                               \
    M(7, v1.val[3])
#if !defined(__ARM_FEATURE_DOTPROD)
    if (first_nomin) {
        ENN_STEP8(ENN_PAIR_NOMIN_FIRST);
        return;
    }
#else
    (void)first_nomin;
#endif
    ENN_STEP8(ENN_PAIR);
#undef ENN_STEP8
}

/* Pairwise sums: lane j of r[0] = all lanes of a[j] (filters 0-3), of r[1] a[4 + j]; r[2], r[3]
 * likewise of b. */
ENN_INLINE void enn_sum8x2_neon(const int32x4_t a[8], const int32x4_t b[8], int32x4_t r[4])
{
    r[0] = vpaddq_s32(vpaddq_s32(a[0], a[1]), vpaddq_s32(a[2], a[3]));
    r[1] = vpaddq_s32(vpaddq_s32(a[4], a[5]), vpaddq_s32(a[6], a[7]));
    r[2] = vpaddq_s32(vpaddq_s32(b[0], b[1]), vpaddq_s32(b[2], b[3]));
    r[3] = vpaddq_s32(vpaddq_s32(b[4], b[5]), vpaddq_s32(b[6], b[7]));
}

/* The raw sums sum_{i < n} w_j[i] x[i] of eight filters w_j with two columns xa and xb of n values,
 * n a multiple of eight, the filters packed (codegen/neon.py: per step of sixteen values the eight
 * filters' bytes in turn, then their last eight values likewise): r[0], r[1] the lanes of filters
 * 0-3, 4-7 with xa; r[2], r[3] with xb. Each filter vector loaded serves both columns, and each
 * column vector eight filters: per 256 MACs two loads of the columns and two of four registers. */
ENN_INLINE void enn_dot8x2_neon(const int8_t *xa, const int8_t *xb, const int8_t *p, int32_t n, int no_min,
                                int32x4_t r[4])
{
    int32x4_t a[8];
    int32x4_t b[8];
    int32_t i = 0;
    int j;
#if !defined(__ARM_FEATURE_DOTPROD)
    if (no_min && n >= 16) {
        enn_step8x2_neon(a, b, vld1q_s8(xa), vld1q_s8(xb), p, 1);
        p += 128;
        for (i = 16; i + 16 <= n; i += 16) {
            const int8x16_t xv = vld1q_s8(xa + i);
            const int8x16_t yv = vld1q_s8(xb + i);
            ENN_GEMM_ASM4(0, ENN_GEMM_ASM_FILTER);
            ENN_GEMM_ASM4(4, ENN_GEMM_ASM_FILTER);
        }
    } else if (n < 16) {
        /* One step of eight values (n = 8): filter 2 j in the low half of register j, 2 j + 1 in
         * the high half. */
        enn_last8_neon(a, vld1_s8(xa), p, 1);
        enn_last8_neon(b, vld1_s8(xb), p, 1);
        i = 8;
        p += 64;
    } else
#else
    (void)no_min;
#endif
    {
        for (j = 0; j < 8; j++) {
            a[j] = vdupq_n_s32(0);
            b[j] = vdupq_n_s32(0);
        }
    }
#if defined(__ARM_FEATURE_DOTPROD)
    for (; i + 16 <= n; i += 16, p += 128) {
        enn_step8x2_neon(a, b, vld1q_s8(xa + i), vld1q_s8(xb + i), p, 0);
    }
#else
    for (; i + 16 <= n; i += 16) {
        const int8x16_t xv = vld1q_s8(xa + i);
        const int8x16_t yv = vld1q_s8(xb + i);
        ENN_GEMM_ASM4(0, ENN_GEMM_ASM_FILTER_ANY);
        ENN_GEMM_ASM4(4, ENN_GEMM_ASM_FILTER_ANY);
    }
#endif
    if (i < n) {
        /* The last eight values: one product per lane, safe with any weight. */
        enn_last8_neon(a, vld1_s8(xa + i), p, 0);
        enn_last8_neon(b, vld1_s8(xb + i), p, 0);
    }
    enn_sum8x2_neon(a, b, r);
}

/* enn_dot8x2_neon of two windows of `rows` rows of w_row values (a multiple of sixteen) each, row_step
 * bytes apart in the input (a convolution's windows inside the input, read where they are instead
 * of gathered first): n = rows w_row. */
ENN_INLINE void enn_dot8x2_rows_neon(const int8_t *xa, const int8_t *xb, int32_t rows, int32_t row_step,
                                     int32_t w_row, const int8_t *p, int no_min, int32x4_t r[4])
{
    int32x4_t a[8];
    int32x4_t b[8];
    int32_t k;
    int j;
#if defined(__ARM_FEATURE_DOTPROD)
    (void)no_min;
#endif
    for (j = 0; j < 8; j++) {
        a[j] = vdupq_n_s32(0);
        b[j] = vdupq_n_s32(0);
    }
    for (; rows > 0; rows--, xa += row_step, xb += row_step) {
#if !defined(__ARM_FEATURE_DOTPROD)
        if (no_min) {
            for (k = 0; k < w_row; k += 16) {
                const int8x16_t xv = vld1q_s8(xa + k);
                const int8x16_t yv = vld1q_s8(xb + k);
                ENN_GEMM_ASM4(0, ENN_GEMM_ASM_FILTER);
                ENN_GEMM_ASM4(4, ENN_GEMM_ASM_FILTER);
            }
            continue;
        }
#endif
#if defined(__ARM_FEATURE_DOTPROD)
        for (k = 0; k < w_row; k += 16, p += 128) {
            enn_step8x2_neon(a, b, vld1q_s8(xa + k), vld1q_s8(xb + k), p, 0);
        }
#else
        for (k = 0; k < w_row; k += 16) {
            const int8x16_t xv = vld1q_s8(xa + k);
            const int8x16_t yv = vld1q_s8(xb + k);
            ENN_GEMM_ASM4(0, ENN_GEMM_ASM_FILTER_ANY);
            ENN_GEMM_ASM4(4, ENN_GEMM_ASM_FILTER_ANY);
        }
#endif
    }
    enn_sum8x2_neon(a, b, r);
}
#undef ENN_PAIR
#undef ENN_PAIR_NOMIN
#undef ENN_PAIR_NOMIN_FIRST
#undef ENN_GEMM_ASM4
#undef ENN_GEMM_ASM_FILTER
#undef ENN_GEMM_ASM_FILTER_ANY

/* Whether each of a layer's n shifts is a right shift (<= -1): enn_rq4_rec_neon's right1. */
static inline int enn_right1_neon(const int8_t *s, int32_t n)
{
    int all = 1;
    int32_t i;
    for (i = 0; i < n; i++) {
        all &= s[i] <= -1;
    }
    return all;
}

/* enn_mbqm4_neon with the left shifts max(shift, 0) and right shifts min(shift, 0) already split
 * (a table's lanes, instead of two instructions per call). */
ENN_INLINE int32x4_t enn_mbqm4_lr_neon(int32x4_t r, int32x4_t m, int32x4_t left, int32x4_t right)
{
    r = vqrdmulhq_s32(vshlq_s32(r, left), m);
    return vrshlq_s32(vqaddq_s32(r, vshrq_n_s32(vandq_s32(r, right), 31)), right);
}

/* Four channels' sums requantized by a record's lanes (codegen/neon.py: bias at q, multiplier at
 * q + 8, left shift at q + 16, right shift at q + 24), without the output offset. right1: every
 * channel of the layer shifts right by at least one and none left (most layers): no SSHL, and
 * RoundingDivideByPOT's fix-up of negative values is v - 1 for v < 0 (SSRA by 31; v > INT32_MIN
 * after SQRDMULH by a multiplier below 2^31), one instruction instead of three. */
ENN_INLINE int32x4_t enn_rq4_rec_neon(int32x4_t r, const int32_t *q, const int right1)
{
    if (right1) {
        const int32x4_t right = vld1q_s32(q + 24);
        r = vqrdmulhq_s32(vaddq_s32(r, vld1q_s32(q)), vld1q_s32(q + 8));
        return vrshlq_s32(vsraq_n_s32(r, r, 31), right);
    }
    return enn_mbqm4_lr_neon(vaddq_s32(r, vld1q_s32(q)), vld1q_s32(q + 8), vld1q_s32(q + 16), vld1q_s32(q + 24));
}

/* Eight channels (r0: 0-3, r1: 4-7) as bytes: saturated to int16 first (a value outside it is
 * outside [lo, hi] after the offset too), the output offset added saturating, saturated to int8,
 * clamped: the same bytes as TFLM's clamp of the int32 sum. */
ENN_INLINE int8x8_t enn_out8_rec_neon(int32x4_t r0, int32x4_t r1, int16x8_t off, int8x8_t lo, int8x8_t hi)
{
    const int16x8_t h = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(r0), r1), off);
    return vmin_s8(vmax_s8(vqmovn_s16(h), lo), hi);
}

/* All out_c (a multiple of eight) outputs of two columns xa and xb of n values (a multiple of
 * eight) into out_a and out_b, eight channels at a time, with the layer's records q and packed
 * filters w (codegen/neon.py). rows > 1: the columns are windows of that many rows (of n / rows
 * values, a multiple of sixteen) row_step bytes apart (enn_dot8x2_rows_neon). out_a may overlap xa
 * where the planner allows (its bytes stay below the lowest input byte still to be read); out_b
 * must not overlap what remains to be read of xa (the caller passes a buffer then). */
ENN_INLINE void enn_gemm2_neon(const int8_t *xa, const int8_t *xb, int32_t n, const int8_t *w, int32_t out_c,
                               const int32_t *q, int32_t out_offset, int32_t lo, int32_t hi, int no_min,
                               int8_t *out_a, int8_t *out_b, const int right1, const int32_t rows,
                               const int32_t row_step)
{
    const int16x8_t off = vdupq_n_s16((int16_t)out_offset);
    const int8x8_t lov = vdup_n_s8((int8_t)lo);
    const int8x8_t hiv = vdup_n_s8((int8_t)hi);
    const int32_t w_row = rows > 1 ? n / rows : n;
    int32_t o;
    for (o = 0; o < out_c; o += 8, w += 8 * n, q += 32) {
        int32x4_t r[4];
        if (rows > 1) {
            enn_dot8x2_rows_neon(xa, xb, rows, row_step, w_row, w, no_min, r);
        } else {
            enn_dot8x2_neon(xa, xb, w, n, no_min, r);
        }
        {
            const int8x8_t ya = enn_out8_rec_neon(enn_rq4_rec_neon(r[0], q, right1),
                                                  enn_rq4_rec_neon(r[1], q + 4, right1), off, lov, hiv);
            const int8x8_t yb = enn_out8_rec_neon(enn_rq4_rec_neon(r[2], q, right1),
                                                  enn_rq4_rec_neon(r[3], q + 4, right1), off, lov, hiv);
            vst1_s8(out_a + o, ya);
            vst1_s8(out_b + o, yb);
        }
    }
}

/* The raw sums of eight filters with one column x of n values (a multiple of eight), the filters
 * packed as for enn_dot8x2_neon: lanes of r[0] filters 0-3, of r[1] 4-7. Per 128 MACs one load of
 * the column and two of four registers; the steps after the first in asm, as there. */
ENN_INLINE void enn_dot8p_neon(const int8_t *x, const int8_t *p, int32_t n, int no_min, int32x4_t r[2])
{
    int32x4_t a[8];
    int32_t i = 0;
    int j;
#if !defined(__ARM_FEATURE_DOTPROD)
    if (no_min && n >= 16) {
        {
            const int8x16_t xv = vld1q_s8(x);
            const int8x16x4_t v0 = vld1q_s8_x4(p);
            const int8x16x4_t v1 = vld1q_s8_x4(p + 64);
            for (j = 0; j < 4; j++) {
                a[j] = vpaddlq_s16(ENN_MUL16_NOMIN(xv, vget_low_s8(xv), v0.val[j]));
                a[j + 4] = vpaddlq_s16(ENN_MUL16_NOMIN(xv, vget_low_s8(xv), v1.val[j]));
            }
            p += 128;
        }
        for (i = 16; i + 16 <= n; i += 16) {
            const int8x16_t xv = vld1q_s8(x + i);
#define ENN_FC_ASM_FILTER(V, T, A)                                                                 \
    "smull " T ".8h, %[x].8b, " V ".8b\n\t"                                                        \
    "smlal2 " T ".8h, %[x].16b, " V ".16b\n\t"                                                     \
    "sadalp %[" A "].4s, " T ".8h\n\t"
            __asm__("ld1 {v0.16b-v3.16b}, [%[p]], #64\n\t"
                    "ld1 {v4.16b-v7.16b}, [%[p]], #64\n\t"
                    ENN_FC_ASM_FILTER("v0", "v16", "a0") ENN_FC_ASM_FILTER("v1", "v17", "a1")
                    ENN_FC_ASM_FILTER("v2", "v16", "a2") ENN_FC_ASM_FILTER("v3", "v17", "a3")
                    ENN_FC_ASM_FILTER("v4", "v16", "a4") ENN_FC_ASM_FILTER("v5", "v17", "a5")
                    ENN_FC_ASM_FILTER("v6", "v16", "a6") ENN_FC_ASM_FILTER("v7", "v17", "a7")
                    : [a0] "+w"(a[0]), [a1] "+w"(a[1]), [a2] "+w"(a[2]), [a3] "+w"(a[3]), [a4] "+w"(a[4]),
                      [a5] "+w"(a[5]), [a6] "+w"(a[6]), [a7] "+w"(a[7]), [p] "+r"(p)
                    : [x] "w"(xv), "m"(*(const int8_t(*)[128])p)
                    : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17");
#undef ENN_FC_ASM_FILTER
        }
    } else if (n < 16) {
        enn_last8_neon(a, vld1_s8(x), p, 1);
        i = 8;
        p += 64;
    } else
#else
    (void)no_min;
#endif
    {
        for (j = 0; j < 8; j++) {
            a[j] = vdupq_n_s32(0);
        }
    }
    for (; i + 16 <= n; i += 16, p += 128) {
        const int8x16_t xv = vld1q_s8(x + i);
        const int8x16x4_t v0 = vld1q_s8_x4(p);
        const int8x16x4_t v1 = vld1q_s8_x4(p + 64);
#if defined(__ARM_FEATURE_DOTPROD)
        for (j = 0; j < 4; j++) {
            a[j] = vdotq_s32(a[j], xv, v0.val[j]);
            a[j + 4] = vdotq_s32(a[j + 4], xv, v1.val[j]);
        }
#else
        for (j = 0; j < 4; j++) {
            a[j] = vpadalq_s16(vpadalq_s16(a[j], vmull_s8(vget_low_s8(xv), vget_low_s8(v0.val[j]))),
                               vmull_high_s8(xv, v0.val[j]));
            a[j + 4] = vpadalq_s16(vpadalq_s16(a[j + 4], vmull_s8(vget_low_s8(xv), vget_low_s8(v1.val[j]))),
                                   vmull_high_s8(xv, v1.val[j]));
        }
#endif
    }
    if (i < n) {
        enn_last8_neon(a, vld1_s8(x + i), p, 0);
    }
    r[0] = vpaddq_s32(vpaddq_s32(a[0], a[1]), vpaddq_s32(a[2], a[3]));
    r[1] = vpaddq_s32(vpaddq_s32(a[4], a[5]), vpaddq_s32(a[6], a[7]));
}

/* All out_c (a multiple of eight) outputs of one row x of n values (a multiple of eight) of a fully
 * connected layer, eight units at a time, from its packed filter w and records q (codegen/neon.py). */
ENN_INLINE void enn_fc8_neon(const int8_t *x, int32_t n, const int8_t *w, int32_t out_c, const int32_t *q,
                             int32_t out_offset, int32_t lo, int32_t hi, int no_min, int8_t *out, const int right1)
{
    const int16x8_t off = vdupq_n_s16((int16_t)out_offset);
    const int8x8_t lov = vdup_n_s8((int8_t)lo);
    const int8x8_t hiv = vdup_n_s8((int8_t)hi);
    int32_t o;
    for (o = 0; o < out_c; o += 8, w += 8 * n, q += 32) {
        int32x4_t r[2];
        enn_dot8p_neon(x, w, n, no_min, r);
        vst1_s8(out + o, enn_out8_rec_neon(enn_rq4_rec_neon(r[0], q, right1), enn_rq4_rec_neon(r[1], q + 4, right1),
                                           off, lov, hiv));
    }
}
#endif

/* Four outputs o..o+3 of a column from their raw sums: + bias, + offset * ksum (wraps), requantized
 * (s32: shifts as int32, or NULL: the byte-wide s), + out_offset, clamped, stored as four bytes. */
ENN_INLINE void enn_col_out4_neon(int32x4_t acc, int32_t o, const int32_t *bias, const int32_t *ksum, int32_t offset,
                                  const int32_t *m, const int8_t *s, const int32_t *s32, int per_channel,
                                  int32_t out_offset, int32_t lo, int32_t hi, int8_t *out)
{
    int16x4_t q;
    if (bias != 0) {
        acc = vaddq_s32(acc, vld1q_s32(bias + o));
    }
    acc = vmlaq_n_s32(acc, vld1q_s32(ksum + o), offset); /* + offset sum w (wraps) */
    if (s32 != 0) {
        q = enn_requant4v_neon(acc, vld1q_s32(m + o), vld1q_s32(s32 + o), out_offset, lo, hi);
    } else {
        q = enn_requant4_neon(acc, m + (per_channel ? o : 0), s + (per_channel ? o : 0), per_channel, out_offset,
                              lo, hi);
    }
    {
        const int32_t bytes = vget_lane_s32(vreinterpret_s32_s8(vmovn_s16(vcombine_s16(q, q))), 0);
        memcpy(out + o, &bytes, sizeof bytes);
    }
}

/* All out_c outputs of a column xa (and with xb not NULL of a second column xb into out_b, each
 * filter vector loaded serving both): out[o] = requantized bias[o] + sum_i w[o n + i] (x[i] +
 * offset) (filters of n bytes, one after the other; ksum[o] = sum_i w[o n + i]), plus out_offset,
 * clamped to [lo, hi]. per_channel 0: one multiplier and shift (m[0], s[0]) for all. Pointwise and
 * gathered convolutions, fully connected layers. s32: the per-channel shifts already widened to
 * int32 (a layer's convolution widens them once for all its pixels), or NULL: each four widened
 * from the byte-wide s. xb only where ENN_NEON_PAIRS (AArch64); both columns are read before any
 * output is written. */
ENN_INLINE void enn_cols_neon(const int8_t *xa, const int8_t *xb, const int8_t *w, int32_t n, int32_t out_c,
                              const int32_t *bias, const int32_t *ksum, int32_t offset, const int32_t *m,
                              const int8_t *s, const int32_t *s32, int per_channel, int32_t out_offset, int32_t lo,
                              int32_t hi, int no_min, int8_t *out_a, int8_t *out_b)
{
    int32_t o = 0;
    int32_t k;
#if defined(ENN_NEON_PAIRS)
    if (xb == 0) {
        for (; o + 8 <= out_c; o += 8, w += 8 * n) {
            int32x4_t r0;
            int32x4_t r1;
            enn_dot8_neon(xa, w, n, n, no_min, &r0, &r1);
            enn_col_out4_neon(r0, o, bias, ksum, offset, m, s, s32, per_channel, out_offset, lo, hi, out_a);
            enn_col_out4_neon(r1, o + 4, bias, ksum, offset, m, s, s32, per_channel, out_offset, lo, hi, out_a);
        }
    }
#endif
    for (; o + 4 <= out_c; o += 4, w += 4 * n) {
#if defined(ENN_NEON_PAIRS)
        if (xb != 0) {
            int32x4_t ra;
            int32x4_t rb;
            enn_dot4x2_neon(xa, xb, w, n, n, no_min, &ra, &rb);
            enn_col_out4_neon(ra, o, bias, ksum, offset, m, s, s32, per_channel, out_offset, lo, hi, out_a);
            enn_col_out4_neon(rb, o, bias, ksum, offset, m, s, s32, per_channel, out_offset, lo, hi, out_b);
            continue;
        }
#endif
        enn_col_out4_neon(enn_dot4_neon(xa, w, n, n, no_min), o, bias, ksum, offset, m, s, s32, per_channel,
                          out_offset, lo, hi, out_a);
    }
#if !defined(ENN_NEON_PAIRS)
    (void)xb; /* one column at a time: conv2d passes no second one */
    (void)out_b;
#endif
    for (k = 0; k < 2; k++) {
        const int8_t *x = k == 0 ? xa : xb;
        int8_t *out = k == 0 ? out_a : out_b;
        const int8_t *wo = w;
        int32_t oo;
        if (x == 0) {
            break;
        }
        for (oo = o; oo < out_c; oo++, wo += n) {
            uint32_t acc = bias != 0 ? (uint32_t)bias[oo] : 0u;
            int32_t i;
            for (i = 0; i < n; i++) {
                acc += (uint32_t)(wo[i] * (x[i] + offset));
            }
            out[oo] = enn_out1_neon((int32_t)acc, m[per_channel ? oo : 0], s[per_channel ? oo : 0], out_offset, lo,
                                    hi);
        }
    }
}

ENN_INLINE void enn_col32_neon(const int8_t *x, const int8_t *w, int32_t n, int32_t out_c, const int32_t *bias,
                               const int32_t *ksum, int32_t offset, const int32_t *m, const int8_t *s,
                               const int32_t *s32, int per_channel, int32_t out_offset, int32_t lo, int32_t hi,
                               int no_min, int8_t *out)
{
    enn_cols_neon(x, 0, w, n, out_c, bias, ksum, offset, m, s, s32, per_channel, out_offset, lo, hi, no_min, out, 0);
}

ENN_INLINE void enn_col_neon(const int8_t *x, const int8_t *w, int32_t n, int32_t out_c, const int32_t *bias,
                             const int32_t *ksum, int32_t offset, const int32_t *m, const int8_t *s,
                             int per_channel, int32_t out_offset, int32_t lo, int32_t hi, int no_min, int8_t *out)
{
    enn_col32_neon(x, w, n, out_c, bias, ksum, offset, m, s, 0, per_channel, out_offset, lo, hi, no_min, out);
}

/* Depthwise convolution (depth_multiplier 1), channels c..c+15 (sets 2) or c..c+7 (sets 1) of one
 * pixel: over the n_ky x n_kx taps at x, w (first tap, channel c; next tap col_step / ch bytes on,
 * next row row_step / w_row), acc += w (x + offset) in int32 lanes: x + offset (-255..255) and w as
 * int16, SMLAL into int32. Then bias, requantization, out_offset, clamp, the bytes stored. */
ENN_INLINE void enn_dw_core(const int8_t *x, const int8_t *w, int32_t n_ky, int32_t n_kx, int32_t row_step,
                            int32_t col_step, int32_t w_row, int32_t ch, int32_t offset, const int32_t *bias,
                            const int32_t *m, const int8_t *s, const int32_t *s32, int32_t out_offset, int32_t lo,
                            int32_t hi, int8_t *out, const int sets)
{
    const int16x8_t off = vdupq_n_s16((int16_t)offset);
    int32x4_t a0 = vdupq_n_s32(0);
    int32x4_t a1 = vdupq_n_s32(0);
    int32x4_t a2 = vdupq_n_s32(0);
    int32x4_t a3 = vdupq_n_s32(0);
    int8x8_t lo8;
    int32_t ky;
    if (bias != 0) {
        a0 = vld1q_s32(bias);
        a1 = vld1q_s32(bias + 4);
        if (sets == 2) {
            a2 = vld1q_s32(bias + 8);
            a3 = vld1q_s32(bias + 12);
        }
    }
    for (ky = 0; ky < n_ky; ky++, x += row_step, w += w_row) {
        const int8_t *xp = x;
        const int8_t *wp = w;
        int32_t kx;
        for (kx = 0; kx < n_kx; kx++, xp += col_step, wp += ch) {
            const int16x8_t xl = vaddw_s8(off, vld1_s8(xp));
            const int16x8_t wl = vmovl_s8(vld1_s8(wp));
            a0 = vmlal_s16(a0, vget_low_s16(xl), vget_low_s16(wl));
            a1 = enn_mlal_high_s16(a1, xl, wl);
            if (sets == 2) {
                const int16x8_t xh = vaddw_s8(off, vld1_s8(xp + 8));
                const int16x8_t wh = vmovl_s8(vld1_s8(wp + 8));
                a2 = vmlal_s16(a2, vget_low_s16(xh), vget_low_s16(wh));
                a3 = enn_mlal_high_s16(a3, xh, wh);
            }
        }
    }
    if (s32 != 0) {
        lo8 = vmovn_s16(vcombine_s16(enn_requant4v_neon(a0, vld1q_s32(m), vld1q_s32(s32), out_offset, lo, hi),
                                     enn_requant4v_neon(a1, vld1q_s32(m + 4), vld1q_s32(s32 + 4), out_offset, lo, hi)));
    } else {
        lo8 = enn_requant8_neon(a0, a1, m, s, out_offset, lo, hi);
    }
    if (sets == 2) {
        int8x8_t hi8;
        if (s32 != 0) {
            hi8 = vmovn_s16(vcombine_s16(
                enn_requant4v_neon(a2, vld1q_s32(m + 8), vld1q_s32(s32 + 8), out_offset, lo, hi),
                enn_requant4v_neon(a3, vld1q_s32(m + 12), vld1q_s32(s32 + 12), out_offset, lo, hi)));
        } else {
            hi8 = enn_requant8_neon(a2, a3, m + 8, s + 8, out_offset, lo, hi);
        }
        vst1q_s8(out, vcombine_s8(lo8, hi8));
    } else {
        vst1_s8(out, lo8);
    }
}

/* Depthwise 3x3 (depth_multiplier 1), channels c..c+15 (sets 2) or c..c+7 (sets 1) of one pixel
 * from its nine taps (tap[t] + c: the input, or a row of the input zero point in the padding), the
 * filter w (tap t at t * ch) and kb: the biases with input_offset * sum(filter) folded in, so that
 * the raw int8 inputs are multiplied (SMULL to int16). With no weight -128, |x w| <= 128 * 127 and
 * two taps' products add up within int16 (SMLAL), then widen into the int32 sums (SADDW): per two
 * taps and sixteen channels 12 instructions, against 24 with the offset added to every input and
 * every product widened (enn_dw_core). s32: the shifts as int32. */
ENN_INLINE void enn_dw3_pairs_neon(const int8_t *const *tap, int32_t c, const int8_t *w, int32_t ch, const int32_t *kb,
                                   const int32_t *m, const int32_t *s32, int32_t out_offset, int32_t lo, int32_t hi,
                                   int8_t *out, const int sets)
{
    int32x4_t a0 = vld1q_s32(kb + c);
    int32x4_t a1 = vld1q_s32(kb + c + 4);
    int32x4_t a2 = vdupq_n_s32(0);
    int32x4_t a3 = vdupq_n_s32(0);
    int16x4_t r0;
    int16x4_t r1;
    int32_t t;
    if (sets == 2) {
        a2 = vld1q_s32(kb + c + 8);
        a3 = vld1q_s32(kb + c + 12);
    }
    w += c;
    for (t = 0; t < 9; t += 2) {
        const int8_t *x0 = tap[t] + c;
        const int8_t *w0 = w + t * ch;
        int16x8_t pl;
        int16x8_t ph = vdupq_n_s16(0);
        if (sets == 2) {
            /* Sixteen bytes per load, their high halves by SMULL2 / SMLAL2. */
            const int8x16_t xv = vld1q_s8(x0);
            const int8x16_t wv = vld1q_s8(w0);
            pl = vmull_s8(vget_low_s8(xv), vget_low_s8(wv));
            ph = enn_mull_high_s8(xv, wv);
            if (t < 8) {
                const int8x16_t xv1 = vld1q_s8(tap[t + 1] + c);
                const int8x16_t wv1 = vld1q_s8(w0 + ch);
                pl = vmlal_s8(pl, vget_low_s8(xv1), vget_low_s8(wv1));
                ph = enn_mlal_high_s8(ph, xv1, wv1);
            }
        } else {
            pl = vmull_s8(vld1_s8(x0), vld1_s8(w0));
            if (t < 8) {
                pl = vmlal_s8(pl, vld1_s8(tap[t + 1] + c), vld1_s8(w0 + ch));
            }
        }
        a0 = vaddw_s16(a0, vget_low_s16(pl));
        a1 = vaddw_s16(a1, vget_high_s16(pl));
        if (sets == 2) {
            a2 = vaddw_s16(a2, vget_low_s16(ph));
            a3 = vaddw_s16(a3, vget_high_s16(ph));
        }
    }
    r0 = enn_requant4v_neon(a0, vld1q_s32(m + c), vld1q_s32(s32 + c), out_offset, lo, hi);
    r1 = enn_requant4v_neon(a1, vld1q_s32(m + c + 4), vld1q_s32(s32 + c + 4), out_offset, lo, hi);
    if (sets == 2) {
        const int16x4_t r2 = enn_requant4v_neon(a2, vld1q_s32(m + c + 8), vld1q_s32(s32 + c + 8), out_offset, lo, hi);
        const int16x4_t r3 = enn_requant4v_neon(a3, vld1q_s32(m + c + 12), vld1q_s32(s32 + c + 12), out_offset, lo, hi);
        vst1q_s8(out + c, vcombine_s8(vmovn_s16(vcombine_s16(r0, r1)), vmovn_s16(vcombine_s16(r2, r3))));
    } else {
        vst1_s8(out + c, vmovn_s16(vcombine_s16(r0, r1)));
    }
}

#if defined(ENN_NEON_PAIRS)
/* enn_dw3_pairs_neon of two pixels of a run inside the input: A with the taps tap[t] (+ c), B with
 * tap[t] + adv. Each filter vector loaded serves both; the requantization takes the layer's
 * multipliers m and shifts split into left lf and right rt (int32), and narrows saturating
 * (enn_out8_rec_neon). Channels c..c+15 (sets 2) or c..c+7 (sets 1) into oa and ob. right1: every
 * shift of the layer is -1 or below (enn_rq4_rec_neon). two 0: pixel A alone (padded windows: their
 * taps from dw3_taps; ob and adv unused). */
ENN_INLINE void enn_dw3_two_neon(const int8_t *const *tap, int32_t adv, int32_t c, const int8_t *w, int32_t ch,
                                 const int32_t *kb, const int32_t *m, const int32_t *lf, const int32_t *rt,
                                 int16x8_t off, int8x16_t lo, int8x16_t hi, int8_t *oa, int8_t *ob, const int sets,
                                 const int right1, const int two)
{
    int32x4_t a[4];
    int32x4_t b[4];
    int32_t t;
    int j;
    for (j = 0; j < 2 * sets; j++) {
        a[j] = vld1q_s32(kb + c + 4 * j);
        b[j] = two ? a[j] : vdupq_n_s32(0);
    }
    w += c;
    for (t = 0; t < 9; t += 2) {
        const int8_t *x0 = tap[t] + c;
        const int8_t *w0 = w + t * ch;
        if (sets == 2) {
            const int8x16_t wv = vld1q_s8(w0);
            const int8x16_t xa = vld1q_s8(x0);
            const int8x16_t xb = two ? vld1q_s8(x0 + adv) : xa;
            int16x8_t pal = vmull_s8(vget_low_s8(xa), vget_low_s8(wv));
            int16x8_t pah = vmull_high_s8(xa, wv);
            int16x8_t pbl = two ? vmull_s8(vget_low_s8(xb), vget_low_s8(wv)) : pal;
            int16x8_t pbh = two ? vmull_high_s8(xb, wv) : pah;
            if (t < 8) {
                const int8_t *x1 = tap[t + 1] + c;
                const int8x16_t wv1 = vld1q_s8(w0 + ch);
                const int8x16_t xa1 = vld1q_s8(x1);
                pal = vmlal_s8(pal, vget_low_s8(xa1), vget_low_s8(wv1));
                pah = vmlal_high_s8(pah, xa1, wv1);
                if (two) {
                    const int8x16_t xb1 = vld1q_s8(x1 + adv);
                    pbl = vmlal_s8(pbl, vget_low_s8(xb1), vget_low_s8(wv1));
                    pbh = vmlal_high_s8(pbh, xb1, wv1);
                }
            }
            a[0] = vaddw_s16(a[0], vget_low_s16(pal));
            a[1] = vaddw_high_s16(a[1], pal);
            a[2] = vaddw_s16(a[2], vget_low_s16(pah));
            a[3] = vaddw_high_s16(a[3], pah);
            if (two) {
                b[0] = vaddw_s16(b[0], vget_low_s16(pbl));
                b[1] = vaddw_high_s16(b[1], pbl);
                b[2] = vaddw_s16(b[2], vget_low_s16(pbh));
                b[3] = vaddw_high_s16(b[3], pbh);
            }
        } else {
            const int8x8_t wv = vld1_s8(w0);
            int16x8_t pa = vmull_s8(vld1_s8(x0), wv);
            int16x8_t pb = two ? vmull_s8(vld1_s8(x0 + adv), wv) : pa;
            if (t < 8) {
                const int8_t *x1 = tap[t + 1] + c;
                const int8x8_t wv1 = vld1_s8(w0 + ch);
                pa = vmlal_s8(pa, vld1_s8(x1), wv1);
                if (two) {
                    pb = vmlal_s8(pb, vld1_s8(x1 + adv), wv1);
                }
            }
            a[0] = vaddw_s16(a[0], vget_low_s16(pa));
            a[1] = vaddw_high_s16(a[1], pa);
            if (two) {
                b[0] = vaddw_s16(b[0], vget_low_s16(pb));
                b[1] = vaddw_high_s16(b[1], pb);
            }
        }
    }
    for (j = 0; j < 2 * sets; j++) {
        const int32x4_t mv = vld1q_s32(m + c + 4 * j);
        const int32x4_t rv = vld1q_s32(rt + c + 4 * j);
        if (right1) {
            /* As enn_rq4_rec_neon's right1. */
            a[j] = vqrdmulhq_s32(a[j], mv);
            a[j] = vrshlq_s32(vsraq_n_s32(a[j], a[j], 31), rv);
            if (two) {
                b[j] = vqrdmulhq_s32(b[j], mv);
                b[j] = vrshlq_s32(vsraq_n_s32(b[j], b[j], 31), rv);
            }
        } else {
            const int32x4_t lv = vld1q_s32(lf + c + 4 * j);
            a[j] = enn_mbqm4_lr_neon(a[j], mv, lv, rv);
            if (two) {
                b[j] = enn_mbqm4_lr_neon(b[j], mv, lv, rv);
            }
        }
    }
    if (sets == 2) {
        const int16x8_t a0 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(a[0]), a[1]), off);
        const int16x8_t a1 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(a[2]), a[3]), off);
        vst1q_s8(oa + c, vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(a0), a1), lo), hi));
        if (two) {
            const int16x8_t b0 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(b[0]), b[1]), off);
            const int16x8_t b1 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(b[2]), b[3]), off);
            vst1q_s8(ob + c, vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(b0), b1), lo), hi));
        }
    } else {
        vst1_s8(oa + c, enn_out8_rec_neon(a[0], a[1], off, vget_low_s8(lo), vget_low_s8(hi)));
        if (two) {
            vst1_s8(ob + c, enn_out8_rec_neon(b[0], b[1], off, vget_low_s8(lo), vget_low_s8(hi)));
        }
    }
}
#endif

/* The kernels' entry points: a whole 3x3 window (the common case) with constant loop bounds, which
 * gcc unrolls completely; any other window with the loops. s32: the shifts widened to int32 by the
 * layer (or NULL: the byte-wide s); inlined, so that a caller's test of it selects one form. */
#define ENN_DW_NEON(NAME, SETS)                                                                    \
    ENN_INLINE void NAME(const int8_t *x, const int8_t *w, int32_t n_ky, int32_t n_kx, int32_t row_step,        \
                         int32_t col_step, int32_t w_row, int32_t ch, int32_t offset, const int32_t *bias,      \
                         const int32_t *m, const int8_t *s, const int32_t *s32, int32_t out_offset, int32_t lo, \
                         int32_t hi, int8_t *out)                                                  \
    {                                                                                              \
        if (n_ky == 3 && n_kx == 3) {                                                              \
            enn_dw_core(x, w, 3, 3, row_step, col_step, w_row, ch, offset, bias, m, s, s32, out_offset, lo, hi, out, \
                        SETS);                                                                     \
        } else {                                                                                   \
            enn_dw_core(x, w, n_ky, n_kx, row_step, col_step, w_row, ch, offset, bias, m, s, s32, out_offset, lo, hi, \
                        out, SETS);                                                                \
        }                                                                                          \
    }
ENN_DW_NEON(enn_dw8_neon, 1)
ENN_DW_NEON(enn_dw16_neon, 2)
#undef ENN_DW_NEON

/* TFLM's add (sign2 1) or sub (sign2 -1) of two contiguous int8 rows, eight elements per step:
 * each input (x + offset) << left_shift, rescaled (multiplier m1 / m2, shift s1 / s2), combined,
 * rescaled to the output (mo, so), + out_offset, clamped. Returns how many of the n elements it
 * wrote (a multiple of 8); the caller does the rest. */
static inline int32_t enn_addsub_neon(int32_t n, const int8_t *a, const int8_t *b, int8_t *o, int32_t sign2,
                                      int32_t left_shift, int32_t off1, int32_t m1, int32_t s1, int32_t off2,
                                      int32_t m2, int32_t s2, int32_t mo, int32_t so, int32_t out_offset, int32_t lo,
                                      int32_t hi)
{
    const int16x8_t o1 = vdupq_n_s16((int16_t)off1);
    const int16x8_t o2 = vdupq_n_s16((int16_t)off2);
    const int32x4_t ls = vdupq_n_s32(left_shift);
    const int32x4_t vm1 = vdupq_n_s32(m1);
    const int32x4_t vs1 = vdupq_n_s32(s1);
    const int32x4_t vm2 = vdupq_n_s32(m2);
    const int32x4_t vs2 = vdupq_n_s32(s2);
    const int32x4_t vmo = vdupq_n_s32(mo);
    const int32x4_t vso = vdupq_n_s32(so);
    const int32x4_t voff = vdupq_n_s32(out_offset);
    const int32x4_t vlo = vdupq_n_s32(lo);
    const int32x4_t vhi = vdupq_n_s32(hi);
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        /* x + offset (-255..255) is exact in int16. */
        const int16x8_t xa = vaddw_s8(o1, vld1_s8(a + i));
        const int16x8_t xb = vaddw_s8(o2, vld1_s8(b + i));
        const int32x4_t ra0 = enn_mbqm4_neon(vshlq_s32(vmovl_s16(vget_low_s16(xa)), ls), vm1, vs1);
        const int32x4_t ra1 = enn_mbqm4_neon(vshlq_s32(enn_movl_high_s16(xa), ls), vm1, vs1);
        const int32x4_t rb0 = enn_mbqm4_neon(vshlq_s32(vmovl_s16(vget_low_s16(xb)), ls), vm2, vs2);
        const int32x4_t rb1 = enn_mbqm4_neon(vshlq_s32(enn_movl_high_s16(xb), ls), vm2, vs2);
        int32x4_t y0 = enn_mbqm4_neon(sign2 > 0 ? vaddq_s32(ra0, rb0) : vsubq_s32(ra0, rb0), vmo, vso);
        int32x4_t y1 = enn_mbqm4_neon(sign2 > 0 ? vaddq_s32(ra1, rb1) : vsubq_s32(ra1, rb1), vmo, vso);
        y0 = vminq_s32(vmaxq_s32(vaddq_s32(y0, voff), vlo), vhi);
        y1 = vminq_s32(vmaxq_s32(vaddq_s32(y1, voff), vlo), vhi);
        vst1_s8(o + i, vmovn_s16(vcombine_s16(vmovn_s32(y0), vmovn_s32(y1))));
    }
    return i;
}

#endif /* EDGENN_NEON_H */
