/* Target-specific helpers shared by the fast kernel paths (conv2d, depthwise_conv2d,
 * fully_connected, add): feature detection, unaligned loads and stores, and the DSP (SMLAD) and
 * Helium (MVE) dot products. The arithmetic itself is edgenn_fixedpoint.h's; every helper here
 * computes exactly what the portable C in the kernels computes. */
#ifndef EDGENN_SIMD_H
#define EDGENN_SIMD_H

#include "edgenn_prefix.h"

#include <stdint.h>
#include <string.h>

#include "edgenn_fixedpoint.h"

/* ---------------------------------------------------------------------------------------------
 * Target helpers shared by the kernels.
 *
 * ENN_DSP: the Arm DSP extension (Cortex-M4/M7/M33/M55, 32-bit Cortex-A) with its SIMD32
 * instructions (SMLAD, SXTB16, ...) through ACLE's <arm_acle.h>. ENN_MVE: Helium (Cortex-M55),
 * through <arm_mve.h>. ENN_NEON: NEON (64-bit Raspberry Pi, and the 32-bit armhf Pis built with
 * -mfpu=neon...: there NEON replaces the DSP paths, eight to sixteen lanes against two), helpers
 * in edgenn_neon.h. Kernels keep a portable C path for everything else (M0/M3, hosts). */
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#define ENN_MVE 1
#include <arm_mve.h>
#endif
#if defined(__ARM_NEON) && !defined(__ARM_FEATURE_MVE) && !defined(ENN_NO_NEON)
#define ENN_NEON 1
#include <arm_neon.h>
#endif
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(__aarch64__) && !defined(ENN_NEON)
#define ENN_DSP 1
#include <arm_acle.h>

/* ENN_DSP_ASM: a few hot loops are hand-scheduled in inline assembly where gcc 12's register
 * allocation spills inside them. Each asm needs at most 12 registers (11 where it is inlined into
 * large functions), which gcc finds when optimizing for an M-profile core; otherwise (-O0,
 * A-profile cores where Linux builds may keep a frame pointer, or -DENN_NO_ASM) the same loops are
 * written with ACLE intrinsics. */
#if defined(__thumb2__) && defined(__OPTIMIZE__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M' && \
    !defined(ENN_NO_ASM)
#define ENN_DSP_ASM 1
#endif

/* SXTB16 with the operand rotated right by 8 (bytes 1 and 3 sign-extended into two int16 halves);
 * gcc 12's ACLE has no rotated form and does not fold a separate ROR into it. */
static inline int32_t enn_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* SXTAB16 with the byte operand rotated right by 8: a's halves + bytes 1 and 3 of x. */
static inline int32_t enn_sxtab16_ror8(int32_t a, int32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}
#endif

/* x saturated to int8 (one SSAT where the DSP extension has it). */
static inline int8_t enn_sat8(int32_t x)
{
#if defined(ENN_DSP)
    return (int8_t)__ssat(x, 8);
#else
    return (int8_t)(x < -128 ? -128 : (x > 127 ? 127 : x));
#endif
}

/* Inlining forced for the kernels' small hot helpers (gcc otherwise keeps some out of line, and
 * their accumulators then live in memory); left to the compiler when optimizing for size (-Os,
 * `--optimize size`), where the forced copies cost more flash than they save time. */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define ENN_INLINE static inline __attribute__((always_inline))
#else
#define ENN_INLINE static inline
#endif

/* Kept out of line: a hot loop with a register budget of its own, which gcc would otherwise
 * inline into a large caller and allocate worse. */
#if defined(__GNUC__)
#define ENN_NOINLINE static __attribute__((noinline))
#else
#define ENN_NOINLINE static
#endif

/* Requantized accumulator to the output byte: + output offset, clamped to [lo, hi]; full: the
 * clamp is the int8 range (one SSAT on the DSP extension). */
ENN_INLINE int8_t enn_out8(int32_t v, int32_t offset, int32_t lo, int32_t hi, int full)
{
    v += offset;
    if (full) {
        return enn_sat8(v);
    }
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

/* A 32-bit load / store at any alignment and of any object type (one LDR/STR where the core
 * allows unaligned access; memcpy keeps it free of aliasing and alignment assumptions). */
static inline int32_t enn_ld32(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void enn_st32(void *p, int32_t v)
{
    memcpy(p, &v, sizeof v);
}

/* An empty asm statement in the body of a short copy or fill loop: gcc would otherwise turn the
 * loop into a call of the C library's memcpy or memset, which for the few bytes these loops move
 * costs more than the loop (on the 64-bit Pis, 40 instructions and more per call). Not when
 * optimizing for size (`--optimize size`), where the call is the smaller code. */
#if defined(__GNUC__) && !defined(__OPTIMIZE_SIZE__)
#define ENN_KEEP_LOOP() __asm__ volatile("")
#else
#define ENN_KEEP_LOOP() ((void)0)
#endif

/* n bytes from src to dst (not overlapping), and n bytes of value v: Helium and NEON move sixteen
 * bytes per step, cores with unaligned word access four. */
static inline void enn_copy8(int8_t *dst, const int8_t *src, int32_t n)
{
#if defined(ENN_NEON)
    for (; n >= 16; n -= 16, dst += 16, src += 16) {
        vst1q_s8(dst, vld1q_s8(src));
        ENN_KEEP_LOOP();
    }
    if (n >= 8) {
        vst1_s8(dst, vld1_s8(src));
        n -= 8;
        dst += 8;
        src += 8;
    }
    for (; n > 0; n--) {
        *dst++ = *src++;
        ENN_KEEP_LOOP();
    }
#elif defined(ENN_MVE)
    for (; n > 0; n -= 16, dst += 16, src += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        vstrbq_p_s8(dst, vldrbq_z_s8(src, p), p);
    }
#else
#if defined(ENN_DSP)
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        enn_st32(dst, enn_ld32(src));
    }
#endif
    for (; n > 0; n--) {
        *dst++ = *src++;
    }
#endif
}

static inline void enn_fill8(int8_t *dst, int8_t v, int32_t n)
{
#if defined(ENN_NEON)
    const int8x16_t vv = vdupq_n_s8(v);
    for (; n >= 16; n -= 16, dst += 16) {
        vst1q_s8(dst, vv);
        ENN_KEEP_LOOP();
    }
    if (n >= 8) {
        vst1_s8(dst, vget_low_s8(vv));
        n -= 8;
        dst += 8;
    }
    for (; n > 0; n--) {
        *dst++ = v;
        ENN_KEEP_LOOP();
    }
#elif defined(ENN_MVE)
    const int8x16_t vv = vdupq_n_s8(v);
    for (; n > 0; n -= 16, dst += 16) {
        vstrbq_p_s8(dst, vv, vctp8q((uint32_t)n));
    }
#else
    for (; n > 0; n--) {
        *dst++ = v;
    }
#endif
}

/* ---------------------------------------------------------------------------------------------
 * Inner products of int8 filters with int8 inputs plus an offset. */

#if defined(ENN_MVE)
/* *a0 += sum_{i < n} w[i] (x[i] + offset), *a1 the same with w + w_stride (int32 wrap-around). */
ENN_INLINE void enn_dot2_mve(const int8_t *x, const int8_t *w, int32_t w_stride, int32_t n, int32_t offset,
                             int32_t *a0, int32_t *a1)
{
    const int8_t *w1 = w + w_stride;
    int32_t m0 = 0;
    int32_t m1 = 0;
    int32_t s0 = 0;
    int32_t s1 = 0;
    for (; n >= 16; n -= 16, x += 16, w += 16, w1 += 16) {
        const int8x16_t xv = vld1q_s8(x);
        const int8x16_t v0 = vld1q_s8(w);
        const int8x16_t v1 = vld1q_s8(w1);
        m0 = vmladavaq_s8(m0, xv, v0);
        m1 = vmladavaq_s8(m1, xv, v1);
        s0 = vaddvaq_s8(s0, v0);
        s1 = vaddvaq_s8(s1, v1);
    }
    if (n > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        const int8x16_t xv = vldrbq_z_s8(x, p);
        const int8x16_t v0 = vldrbq_z_s8(w, p);
        const int8x16_t v1 = vldrbq_z_s8(w1, p);
        m0 = vmladavaq_s8(m0, xv, v0);
        m1 = vmladavaq_s8(m1, xv, v1);
        s0 = vaddvaq_s8(s0, v0);
        s1 = vaddvaq_s8(s1, v1);
    }
    *a0 = (int32_t)((uint32_t)*a0 + (uint32_t)m0 + (uint32_t)s0 * (uint32_t)offset);
    *a1 = (int32_t)((uint32_t)*a1 + (uint32_t)m1 + (uint32_t)s1 * (uint32_t)offset);
}

/* *a_j += sum_{i < n} w[j * w_stride + i] x[i] for the four filters j = 0..3, without any offset
 * (callers add input_offset * sum(filter) from a table): each input vector serves four VMLADAVAs. */
ENN_INLINE void enn_dot4x_mve(const int8_t *x, const int8_t *w, int32_t w_stride, int32_t n, int32_t *a0,
                              int32_t *a1, int32_t *a2, int32_t *a3)
{
    const int8_t *w1 = w + w_stride;
    const int8_t *w2 = w + 2 * w_stride;
    const int8_t *w3 = w + 3 * w_stride;
    int32_t m0 = *a0;
    int32_t m1 = *a1;
    int32_t m2 = *a2;
    int32_t m3 = *a3;
#if defined(__OPTIMIZE__) && !defined(ENN_NO_ASM)
    if (n >= 16) {
        /* Hand-scheduled: gcc 12 addresses the five streams through one index (five extra
         * instructions per step) and cannot keep four VMLADAVA accumulators, which must be even
         * registers, without moves; the "Te" constraint asks for even registers. 11 instructions
         * per 64 MACs. */
        int32_t steps = n >> 4;
        __asm__("1:\n\t"
                "vldrb.8 q0, [%[x]], #16\n\t"
                "vldrb.8 q1, [%[w0]], #16\n\t"
                "vmladava.s8 %[m0], q0, q1\n\t"
                "vldrb.8 q1, [%[w1]], #16\n\t"
                "vmladava.s8 %[m1], q0, q1\n\t"
                "vldrb.8 q1, [%[w2]], #16\n\t"
                "vmladava.s8 %[m2], q0, q1\n\t"
                "vldrb.8 q1, [%[w3]], #16\n\t"
                "vmladava.s8 %[m3], q0, q1\n\t"
                "subs %[n], %[n], #1\n\t"
                "bne 1b"
                : [m0] "+Te"(m0), [m1] "+Te"(m1), [m2] "+Te"(m2), [m3] "+Te"(m3), [x] "+r"(x), [w0] "+r"(w),
                  [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3), [n] "+r"(steps)
                :
                : "q0", "q1", "cc", "memory");
        n &= 15;
    }
#else
    for (; n >= 16; n -= 16, x += 16, w += 16, w1 += 16, w2 += 16, w3 += 16) {
        const int8x16_t xv = vld1q_s8(x);
        m0 = vmladavaq_s8(m0, xv, vld1q_s8(w));
        m1 = vmladavaq_s8(m1, xv, vld1q_s8(w1));
        m2 = vmladavaq_s8(m2, xv, vld1q_s8(w2));
        m3 = vmladavaq_s8(m3, xv, vld1q_s8(w3));
    }
#endif
    if (n > 0) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        const int8x16_t xv = vldrbq_z_s8(x, p);
        m0 = vmladavaq_s8(m0, xv, vldrbq_z_s8(w, p));
        m1 = vmladavaq_s8(m1, xv, vldrbq_z_s8(w1, p));
        m2 = vmladavaq_s8(m2, xv, vldrbq_z_s8(w2, p));
        m3 = vmladavaq_s8(m3, xv, vldrbq_z_s8(w3, p));
    }
    *a0 = m0;
    *a1 = m1;
    *a2 = m2;
    *a3 = m3;
}

/* TFLM's MultiplyByQuantizedMultiplier in Helium lanes, exact for every shift -31..31 as
 * gemmlowp's own vector code: VQRDMULH is SaturatingRoundingDoublingHighMul (saturation included),
 * and RoundingDivideByPOT is a rounding shift right (VRSHL by -r: (v + 2^(r-1)) >> r without
 * overflow) of v - [v < 0] (saturating; the sign bit of v & -r): negative halves round away from
 * zero. A left shift (shift > 0) wraps, as TFLM's. */
ENN_INLINE int32x4_t enn_mbqm4_mve(int32x4_t acc, int32x4_t multiplier, int32x4_t shift)
{
    const int32x4_t right = vminq_s32(shift, vdupq_n_s32(0)); /* -r, or 0 */
    const int32x4_t left = vmaxq_s32(shift, vdupq_n_s32(0));
    const int32x4_t v = vqrdmulhq_s32(vshlq_s32(acc, left), multiplier);
    return vrshlq_s32(vqaddq_s32(v, vshrq_n_s32(vandq_s32(v, right), 31)), right);
}

/* Four accumulators requantized (channels with the given multipliers and shifts, or one multiplier
 * and shift for all: per_channel 0), plus the output offset, clamped, stored as four bytes. */
ENN_INLINE void enn_requant4_mve(int32x4_t acc, const int32_t *multiplier, const int8_t *shift, int per_channel,
                                 int32_t offset, int32_t lo, int32_t hi, int8_t *out)
{
    const int32x4_t sh = per_channel ? vldrbq_s32(shift) : vdupq_n_s32(shift[0]);
    const int32x4_t m = per_channel ? vldrwq_s32(multiplier) : vdupq_n_s32(multiplier[0]);
    int32x4_t v = vaddq_n_s32(enn_mbqm4_mve(acc, m, sh), offset);
    v = vminq_s32(vmaxq_s32(v, vdupq_n_s32(lo)), vdupq_n_s32(hi));
    vstrbq_s32(out, v);
}

/* Four scalars as the lanes of a vector. */
ENN_INLINE int32x4_t enn_lanes4(int32_t a0, int32_t a1, int32_t a2, int32_t a3)
{
    int32x4_t v = vdupq_n_s32(a0);
    v = vsetq_lane_s32(a1, v, 1);
    v = vsetq_lane_s32(a2, v, 2);
    return vsetq_lane_s32(a3, v, 3);
}
#endif

#if defined(ENN_DSP)
/* One step of enn_dot4 in intrinsics: four input bytes (+ offset, as int16 pairs) times four
 * bytes of each of four filters (w, w + w_stride, w + 2 w_stride, w + 3 w_stride). */
ENN_INLINE void enn_dot4_step(const int8_t *x, const int8_t *w, int32_t w_stride, int32_t offset2, int32_t *i0,
                              int32_t *i1, int32_t *i2, int32_t *i3)
{
    const int32_t xv = enn_ld32(x);
    const int32_t xe = __sxtab16(offset2, xv);
    const int32_t xo = enn_sxtab16_ror8(offset2, xv);
    int32_t wv = enn_ld32(w);
    *i0 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), *i0));
    wv = enn_ld32(w + w_stride);
    *i1 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), *i1));
    wv = enn_ld32(w + 2 * w_stride);
    *i2 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), *i2));
    wv = enn_ld32(w + 3 * w_stride);
    *i3 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), *i3));
}
#endif

/* *a_j += sum_{i < n} w[j * w_stride + i] * (x[i] + offset) for the four filters j = 0..3
 * (int32 wrap-around): the inner product of convolutions and fully connected layers, four
 * filters at a time so that each input word loaded serves four of them. */
ENN_INLINE void enn_dot4(const int8_t *x, const int8_t *w, int32_t w_stride, int32_t n, int32_t offset, int32_t *a0,
                         int32_t *a1, int32_t *a2, int32_t *a3)
{
#if defined(ENN_MVE)
    /* Two filters per pass (the accumulators of VMLADAVA / VADDVA must be even registers, and
     * four filters would need more of them than there are): sixteen bytes per step, the last step
     * predicated (lanes past n load as 0). The filters' sums, times the offset, are added at the
     * end: sum w (x + offset) = sum w x + offset sum w. */
    enn_dot2_mve(x, w, w_stride, n, offset, a0, a1);
    enn_dot2_mve(x, w + 2 * w_stride, w_stride, n, offset, a2, a3);
#else
    int32_t i0 = *a0;
    int32_t i1 = *a1;
    int32_t i2 = *a2;
    int32_t i3 = *a3;
#if defined(ENN_DSP)
    /* Four bytes per step: the input word unpacked once by SXTAB16 into int16 pairs of bytes 0, 2
     * and 1, 3 with the offset added, each filter word by SXTB16 into the same pairs; two SMLADs
     * per filter. */
    const int32_t offset2 = (int32_t)(((uint32_t)offset & 0xFFFFu) * 0x10001u);
    int32_t steps = n >> 2;
#if defined(ENN_DSP_ASM)
    if (steps & 1) {
        /* An odd step first, so that the asm below runs whole iterations. */
        enn_dot4_step(x, w, w_stride, offset2, &i0, &i1, &i2, &i3);
        x += 4;
        w += 4;
        steps--;
    }
#endif
    if (steps > 0) {
#if defined(ENN_DSP_ASM)
        /* Hand-scheduled (ENN_DSP_ASM), two steps per iteration: 27 instructions per 16 MACs.
         * 11 registers, so that gcc finds them in every caller even with a frame pointer: the
         * iteration count and the offset pair live in memory (the offset is reloaded into a
         * temporary each step), filters 1 and 2 are read at [w0 + stride] and [w0 + 2 stride],
         * filter 3 at w0 + 3 stride through a temporary. */
        const int8_t *w0 = w;
        int32_t iters = steps >> 1;
        int32_t xe;
        int32_t xo;
        int32_t wv;
        int32_t we;
/* The four filters of one step of enn_dot4 / enn_dot4x: the int16 input pairs xe (even bytes)
 * and xo (odd bytes) multiply 4 weights of each filter (w0, w0 + ws, w0 + 2 ws, w0 + 3 ws). */
#define ENN_DOT4_FILTERS                                                                           \
    "ldr %[wv], [%[w0], %[ws]]\n\t"                                                                \
    "sxtb16 %[we], %[wv]\n\t"                                                                      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"                                                              \
    "smlad %[a1], %[xe], %[we], %[a1]\n\t"                                                         \
    "smlad %[a1], %[xo], %[wv], %[a1]\n\t"                                                         \
    "ldr %[wv], [%[w0], %[ws], lsl #1]\n\t"                                                        \
    "sxtb16 %[we], %[wv]\n\t"                                                                      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"                                                              \
    "smlad %[a2], %[xe], %[we], %[a2]\n\t"                                                         \
    "smlad %[a2], %[xo], %[wv], %[a2]\n\t"                                                         \
    "add %[we], %[ws], %[ws], lsl #1\n\t"                                                          \
    "ldr %[wv], [%[w0], %[we]]\n\t"                                                                \
    "sxtb16 %[we], %[wv]\n\t"                                                                      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"                                                              \
    "smlad %[a3], %[xe], %[we], %[a3]\n\t"                                                         \
    "smlad %[a3], %[xo], %[wv], %[a3]\n\t"                                                         \
    "ldr %[wv], [%[w0]], #4\n\t"                                                                   \
    "sxtb16 %[we], %[wv]\n\t"                                                                      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"                                                              \
    "smlad %[a0], %[xe], %[we], %[a0]\n\t"                                                         \
    "smlad %[a0], %[xo], %[wv], %[a0]\n\t"
#define ENN_DOT4_STEP                                                                              \
    "ldr %[xo], [%[x]], #4\n\t"                                                                    \
    "ldr %[we], %[off2]\n\t"                                                                       \
    "sxtab16 %[xe], %[we], %[xo]\n\t"                                                              \
    "sxtab16 %[xo], %[we], %[xo], ror #8\n\t"                                                      \
    ENN_DOT4_FILTERS
        __asm__("1:\n\t" ENN_DOT4_STEP ENN_DOT4_STEP
                "ldr %[wv], %[n]\n\t"
                "subs %[wv], %[wv], #1\n\t"
                "str %[wv], %[n]\n\t"
                "bne 1b"
                : [a0] "+r"(i0), [a1] "+r"(i1), [a2] "+r"(i2), [a3] "+r"(i3), [x] "+r"(x), [w0] "+r"(w0),
                  [n] "+m"(iters), [xe] "=&r"(xe), [xo] "=&r"(xo), [wv] "=&r"(wv), [we] "=&r"(we)
                : [ws] "r"(w_stride), [off2] "m"(offset2)
                : "cc", "memory");
#undef ENN_DOT4_STEP
        w = w0;
#else
        int32_t k;
        for (k = 0; k < steps; k++, x += 4, w += 4) {
            enn_dot4_step(x, w, w_stride, offset2, &i0, &i1, &i2, &i3);
        }
#endif
    }
    n &= 3;
#endif
    for (; n > 0; n--, x++, w++) {
        const int32_t v = (int32_t)*x + offset;
        i0 = (int32_t)((uint32_t)i0 + (uint32_t)(w[0] * v));
        i1 = (int32_t)((uint32_t)i1 + (uint32_t)(w[w_stride] * v));
        i2 = (int32_t)((uint32_t)i2 + (uint32_t)(w[2 * w_stride] * v));
        i3 = (int32_t)((uint32_t)i3 + (uint32_t)(w[3 * w_stride] * v));
    }
    *a0 = i0;
    *a1 = i1;
    *a2 = i2;
    *a3 = i3;
#endif
}

#if defined(ENN_DSP) && !defined(ENN_MVE)
/* The DSP build's pre-extended inputs: x[0..4 steps) + offset as int16 pairs, per group of four
 * bytes (x0, x2) then (x1, x3): the pairs SXTB16 makes of four packed filter bytes. A pixel's column
 * extended once serves every filter (enn_dot4_x16), instead of once per four filters. Group k's
 * pairs go to dst[dst_step k] and dst[dst_step k + 1]. */
#if defined(ENN_DSP_ASM)
/* Two groups per iteration, 11 instructions (the C loop took 8 per group: gcc, inside the large
 * conv2d driver, kept too little in registers). DST_BYTES: dst_step in bytes (8 or 16). */
#define ENN_EXT16_ASM(DST_BYTES, NEXT_BYTES)                                                        \
    __asm__("1:\n\t"                                                                                \
            "ldr %[a], [%[x]], #4\n\t"                                                              \
            "ldr %[b], [%[x]], #4\n\t"                                                              \
            "sxtab16 %[t], %[o], %[a], ror #8\n\t"                                                   \
            "sxtab16 %[a], %[o], %[a]\n\t"                                                          \
            "strd %[a], %[t], [%[d]]\n\t"                                                           \
            "sxtab16 %[t], %[o], %[b], ror #8\n\t"                                                   \
            "sxtab16 %[b], %[o], %[b]\n\t"                                                          \
            "strd %[b], %[t], [%[d], #" DST_BYTES "]\n\t"                                            \
            "add %[d], %[d], #" NEXT_BYTES "\n\t"                                                   \
            "subs %[n], %[n], #1\n\t"                                                               \
            "bne 1b"                                                                               \
            : [a] "=&r"(a), [b] "=&r"(b), [t] "=&r"(t), [x] "+r"(x), [d] "+r"(dst), [n] "+r"(pairs)      \
            : [o] "r"(offset2)                                                                     \
            : "cc", "memory")
#endif

static inline void enn_ext16_every(uint32_t *dst, const int8_t *x, int32_t steps, int32_t offset, int32_t dst_step)
{
    const int32_t offset2 = (int32_t)(((uint32_t)offset & 0xFFFFu) * 0x10001u);
#if defined(ENN_DSP_ASM)
    if (steps >= 2 && (dst_step == 2 || dst_step == 4)) {
        int32_t pairs = steps >> 1;
        int32_t a;
        int32_t b;
        int32_t t;
        if (dst_step == 4) {
            ENN_EXT16_ASM("16", "32");
        } else {
            ENN_EXT16_ASM("8", "16");
        }
        steps &= 1;
    }
#endif
    for (; steps > 0; steps--, x += 4, dst += dst_step) {
        const int32_t v = enn_ld32(x);
        dst[0] = (uint32_t)__sxtab16(offset2, v);
        dst[1] = (uint32_t)enn_sxtab16_ror8(offset2, v);
    }
}

static inline void enn_ext16(uint32_t *dst, const int8_t *x, int32_t steps, int32_t offset)
{
    enn_ext16_every(dst, x, steps, offset, 2);
}

/* enn_ext16 into every other pair of words: two pixels' columns interleaved, pixel A's pairs at
 * dst[4 k], dst[4 k + 1] and pixel B's at dst[4 k + 2], dst[4 k + 3] (call with dst + 2 for B). */
static inline void enn_ext16_pair(uint32_t *dst, const int8_t *x, int32_t steps, int32_t offset)
{
    enn_ext16_every(dst, x, steps, offset, 4);
}

/* *a_j += sum over `steps` groups of four of w_j * (x + offset), w_j = w + j * w_stride, from the
 * pairs of enn_ext16 (int32 wrap-around). */
ENN_INLINE void enn_dot4_x16(const uint32_t *xp, const int8_t *w, int32_t w_stride, int32_t steps, int32_t *a0,
                             int32_t *a1, int32_t *a2, int32_t *a3)
{
    int32_t i0 = *a0;
    int32_t i1 = *a1;
    int32_t i2 = *a2;
    int32_t i3 = *a3;
#if defined(ENN_DSP_ASM)
    if (steps & 1) {
        const int32_t xe = (int32_t)xp[0];
        const int32_t xo = (int32_t)xp[1];
        int32_t wv = enn_ld32(w);
        i0 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), i0));
        wv = enn_ld32(w + w_stride);
        i1 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), i1));
        wv = enn_ld32(w + 2 * w_stride);
        i2 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), i2));
        wv = enn_ld32(w + 3 * w_stride);
        i3 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), i3));
        xp += 2;
        w += 4;
        steps--;
    }
    if (steps > 0) {
        /* Hand-scheduled like enn_dot4, with the input pairs read by one LDRD: 22 instructions
         * per 16 MACs, 11 registers (the iteration count in memory). */
        int32_t iters = steps >> 1;
        int32_t xe;
        int32_t xo;
        int32_t wv;
        int32_t we;
#define ENN_DOT4X_STEP                                                                             \
    "ldrd %[xe], %[xo], [%[x]], #8\n\t"                                                            \
    ENN_DOT4_FILTERS
        __asm__("1:\n\t" ENN_DOT4X_STEP ENN_DOT4X_STEP
                "ldr %[wv], %[n]\n\t"
                "subs %[wv], %[wv], #1\n\t"
                "str %[wv], %[n]\n\t"
                "bne 1b"
                : [a0] "+r"(i0), [a1] "+r"(i1), [a2] "+r"(i2), [a3] "+r"(i3), [x] "+r"(xp), [w0] "+r"(w),
                  [n] "+m"(iters), [xe] "=&r"(xe), [xo] "=&r"(xo), [wv] "=&r"(wv), [we] "=&r"(we)
                : [ws] "r"(w_stride)
                : "cc", "memory");
#undef ENN_DOT4X_STEP
    }
#else
    for (; steps > 0; steps--, xp += 2, w += 4) {
        const int32_t xe = (int32_t)xp[0];
        const int32_t xo = (int32_t)xp[1];
        int32_t wv = enn_ld32(w);
        i0 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), i0));
        wv = enn_ld32(w + w_stride);
        i1 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), i1));
        wv = enn_ld32(w + 2 * w_stride);
        i2 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), i2));
        wv = enn_ld32(w + 3 * w_stride);
        i3 = __smlad(xo, enn_sxtb16_ror8(wv), __smlad(xe, __sxtb16(wv), i3));
    }
#endif
    *a0 = i0;
    *a1 = i1;
    *a2 = i2;
    *a3 = i3;
}
#endif

/* sum_{i < n} w[i] * (x[i] + offset), one filter (int32 wrap-around). */
static inline uint32_t enn_dot1(const int8_t *x, const int8_t *w, int32_t n, int32_t offset)
{
    uint32_t acc = 0;
#if defined(ENN_DSP) && !defined(ENN_MVE)
    const int32_t offset2 = (int32_t)(((uint32_t)offset & 0xFFFFu) * 0x10001u);
    for (; n >= 4; n -= 4, x += 4, w += 4) {
        const int32_t xv = enn_ld32(x);
        const int32_t wv = enn_ld32(w);
        acc = (uint32_t)__smlad(enn_sxtab16_ror8(offset2, xv), enn_sxtb16_ror8(wv),
                                __smlad(__sxtab16(offset2, xv), __sxtb16(wv), (int32_t)acc));
    }
#endif
    for (; n > 0; n--) {
        acc += (uint32_t)((int32_t)*w++ * ((int32_t)*x++ + offset));
    }
    return acc;
}

#if defined(ENN_NEON)
#include "edgenn_neon.h"
#endif

#endif /* EDGENN_SIMD_H */
