/* TFLM's two-input int8 arithmetic (ArithmeticParams): both inputs rescaled to a common fixed-point
 * scale, ((x + offset) << left_shift) * multiplier (enn_mbqm with shift <= 0), then combined and
 * requantized. Shared by add and sub (enn_addsub: input 2 added or subtracted), and the rescaling
 * stage by squared_difference and compare.
 *
 * Broadcasting visits the output in order (edgenn_broadcast.h); each output is written right after
 * its inputs are read, so the output may be either input (in place). The three requantizations of
 * add / sub take a fast exact form when the parameters allow (always, for the converter's), and
 * Helium does four elements at a time (from tables of the inputs' first stage on long rows), NEON
 * (AArch64) eight. */
#ifndef EDGENN_ARITH_H
#define EDGENN_ARITH_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_broadcast.h"
#include "edgenn_fixedpoint.h"
#include "edgenn_simd.h"
#include "edgenn_types.h"

#define ENN_ARITH_MAX_DIMS ENN_BCAST_MAX_DIMS

typedef struct {
    int32_t left_shift;
    enn_quant input1; /* offset: -zero point; multiplier, shift: to the common scale */
    enn_quant input2;
    enn_quant output; /* offset: zero point */
    enn_act act;
    /* Shapes right-aligned to ENN_ARITH_MAX_DIMS axes (leading 1s); each input axis is the output's
     * or 1 (broadcast). */
    int32_t in1_shape[ENN_ARITH_MAX_DIMS];
    int32_t in2_shape[ENN_ARITH_MAX_DIMS];
    int32_t out_shape[ENN_ARITH_MAX_DIMS];
} enn_arith_params;

/* ((x + offset) << left_shift) rescaled by a multiplier < 1 (TFLM's first stage). */
static inline int32_t enn_arith_scale(int32_t x, const enn_quant *q, int32_t left_shift)
{
    return enn_mbqm((x + q->offset) * ((int32_t)1 << left_shift), q->multiplier, (int)q->shift);
}

static inline int8_t enn_arith_out(const enn_arith_params *p, int32_t raw)
{
    const int32_t y = enn_mbqm(raw, p->output.multiplier, (int)p->output.shift) + p->output.offset;
    return (int8_t)enn_clamp(y, p->act.min, p->act.max);
}

/* The fast form of a call's arithmetic, decoded once. It applies when left_shift <= 21 and every
 * multiplier is >= 0 with shift -31..0 (always so for the converter's adds and subs: left_shift 20
 * and multipliers smaller than one). Then |(x + offset) << left_shift| <= 256 << 21 = 2^29, the
 * rescaled inputs and their sum or difference stay below 2^29, and each stage is exact as
 *   SRDHM(v, m) = SMMULR(2v, m)                      (2v does not overflow),
 *   RDBP(s, r)  = (((s - [s < 0]) >> (r - 1)) + 1) >> 1  for r >= 1, s for r = 0. */
typedef struct {
    int32_t shift1;  /* left_shift + 1: (x + offset) << shift1 is 2v */
    int32_t off1, m1, r1, off2, m2, r2; /* per input: offset, multiplier, right shift */
    int32_t mo, ro, out_offset, lo, hi;
} enn_arith_fast;

ENN_INLINE int32_t enn_arith_rdbp(int32_t s, int32_t r)
{
    return r == 0 ? s : (((s + (s >> 31)) >> (r - 1)) + 1) >> 1;
}

ENN_INLINE int32_t enn_arith_in(int32_t x, int32_t offset, int32_t shift1, int32_t m, int32_t r)
{
    return enn_arith_rdbp(enn_smmulr((int32_t)((uint32_t)(x + offset) << shift1), m), r);
}

ENN_INLINE int8_t enn_arith_fast_out(const enn_arith_fast *f, int32_t raw)
{
    return enn_out8(enn_arith_rdbp(enn_smmulr(raw * 2, f->mo), f->ro), f->out_offset, f->lo, f->hi,
                    f->lo == -128 && f->hi == 127);
}

#if defined(ENN_DSP) && !defined(ENN_MVE)
/* The DSP build's long contiguous rows (at least this many elements, output shift >= 1): each
 * input's first stage depends on one byte, so both are tabulated once (2 x 256 int32 on the stack,
 * doubled: 2 v is what the output stage multiplies), and per element there remain two table
 * reads, one SMMULR and enn_rq8's rounding: no branch, about a third of the instructions. */
#define ENN_ARITH_LUT_MIN 1024

/* Elements i < n of the row from the tables ta, tb (indexed by the signed input bytes); full: the
 * clamp is the int8 range (a constant in each inlined copy). */
ENN_INLINE void enn_addsub_lut_row(const enn_arith_fast *f, const int32_t *ta, const int32_t *tb, int32_t n,
                                   const int8_t *a, const int8_t *b, int8_t *o, const int full)
{
    const int32_t mo = f->mo;
    const int32_t t = f->ro - 1;
    const int32_t c2 = 2 * f->out_offset + 1;
    const int32_t lo = f->lo;
    const int32_t hi = f->hi;
    int32_t i;
    for (i = 0; i < n; i++) {
        /* enn_arith_fast_out: rdbp(smmulr(2 raw, mo), ro) + out_offset, clamped (enn_rq8's form). */
        int32_t s = enn_smmulr(ta[a[i]] + tb[b[i]], mo);
        int32_t v;
        s += s >> 31;
        v = __qadd(s >> t, c2);
        if (full) {
            __asm__("ssat %0, #8, %1, asr #1" : "=r"(v) : "r"(v));
            o[i] = (int8_t)v;
        } else {
            o[i] = (int8_t)enn_clamp(v >> 1, lo, hi);
        }
    }
}

static inline void enn_addsub_lut(const enn_arith_fast *f, int32_t sign2, int32_t n, const int8_t *a, const int8_t *b,
                                  int8_t *o)
{
    int32_t lut[512];
    int32_t *ta = lut + 128;
    int32_t *tb = lut + 384;
    int32_t v;
    for (v = -128; v < 128; v++) {
        ta[v] = 2 * enn_arith_in(v, f->off1, f->shift1, f->m1, f->r1);
        tb[v] = 2 * sign2 * enn_arith_in(v, f->off2, f->shift1, f->m2, f->r2);
    }
    if (f->lo == -128 && f->hi == 127) {
        enn_addsub_lut_row(f, ta, tb, n, a, b, o, 1);
    } else {
        enn_addsub_lut_row(f, ta, tb, n, a, b, o, 0);
    }
}
#endif

#if defined(ENN_MVE)
/* Helium's long contiguous rows (at least this many elements; the tables cost as much as about 200
 * elements, and a broadcast calls this once per row): each input's first stage depends on one
 * byte, so it is tabulated once per call (2 x 256 int32 on the stack, indexed by the byte as
 * unsigned, built four entries at a time with the same steps as the lanes below), and per four
 * elements there remain two widening loads, two gathers from the tables, their sum and the output
 * stage (enn_mbqm4_mve): about a third of the instructions. Returns the elements done. */
#define ENN_ARITH_LUT_MIN 1024

static inline int32_t enn_addsub_lut_mve(const enn_arith_params *p, int32_t sign2, int32_t n, const int8_t *a,
                                         const int8_t *b, int8_t *o)
{
    int32_t ta[256];
    int32_t tb[256];
    const int32x4_t shift = vdupq_n_s32(p->left_shift);
    const int32x4_t mo = vdupq_n_s32(p->output.multiplier);
    const int32x4_t so = vdupq_n_s32(p->output.shift);
    const int32x4_t lo = vdupq_n_s32(p->act.min);
    const int32x4_t hi = vdupq_n_s32(p->act.max);
    uint32_t u;
    int32_t i;
    for (u = 0; u < 256u; u += 4u) {
        /* Entries u..u+3 hold the bytes' signed values (u ^ 128) - 128. */
        const int32x4_t x = vsubq_n_s32(vreinterpretq_s32_u32(veorq_u32(vidupq_n_u32(u, 1), vdupq_n_u32(128u))), 128);
        const int32x4_t ra = enn_mbqm4_mve(vshlq_s32(vaddq_n_s32(x, p->input1.offset), shift),
                                           vdupq_n_s32(p->input1.multiplier), vdupq_n_s32(p->input1.shift));
        const int32x4_t rb = enn_mbqm4_mve(vshlq_s32(vaddq_n_s32(x, p->input2.offset), shift),
                                           vdupq_n_s32(p->input2.multiplier), vdupq_n_s32(p->input2.shift));
        vstrwq_s32(ta + u, ra);
        vstrwq_s32(tb + u, sign2 > 0 ? rb : vnegq_s32(rb));
    }
    for (i = 0; i + 4 <= n; i += 4) {
        const int32x4_t raw = vaddq_s32(vldrwq_gather_shifted_offset_s32(ta, vldrbq_u32((const uint8_t *)a + i)),
                                        vldrwq_gather_shifted_offset_s32(tb, vldrbq_u32((const uint8_t *)b + i)));
        const int32x4_t y = vaddq_n_s32(enn_mbqm4_mve(raw, mo, so), p->output.offset);
        vstrbq_s32(o + i, vminq_s32(vmaxq_s32(y, lo), hi));
    }
    return i;
}
#endif

/* n outputs; a and b advance by sa, sb (0 = broadcast, 1 = contiguous); sign2 is 1 (add) or -1 (sub). */
ENN_INLINE void enn_addsub_row(const enn_arith_params *p, const enn_arith_fast *f, int32_t sign2, int32_t n,
                               const int8_t *a, int32_t sa, const int8_t *b, int32_t sb, int8_t *o)
{
    int32_t i = 0;
#if defined(ENN_NEON)
    if (sa == 1 && sb == 1) {
        i = enn_addsub_neon(n, a, b, o, sign2, p->left_shift, p->input1.offset, p->input1.multiplier,
                            p->input1.shift, p->input2.offset, p->input2.multiplier, p->input2.shift,
                            p->output.multiplier, p->output.shift, p->output.offset, p->act.min, p->act.max);
    }
#endif
#if defined(ENN_MVE)
    if (sa == 1 && sb == 1 && n >= ENN_ARITH_LUT_MIN) {
        i = enn_addsub_lut_mve(p, sign2, n, a, b, o);
    }
    if (sa == 1 && sb == 1) {
        /* Four lanes per step with enn_mbqm4_mve (exact for any parameters); the parameter
         * vectors made once. */
        const int32x4_t shift = vdupq_n_s32(p->left_shift);
        const int32x4_t m1 = vdupq_n_s32(p->input1.multiplier);
        const int32x4_t s1 = vdupq_n_s32(p->input1.shift);
        const int32x4_t m2 = vdupq_n_s32(p->input2.multiplier);
        const int32x4_t s2 = vdupq_n_s32(p->input2.shift);
        const int32x4_t mo = vdupq_n_s32(p->output.multiplier);
        const int32x4_t so = vdupq_n_s32(p->output.shift);
        const int32x4_t lo = vdupq_n_s32(p->act.min);
        const int32x4_t hi = vdupq_n_s32(p->act.max);
        for (; i + 4 <= n; i += 4) {
            const int32x4_t va = vshlq_s32(vaddq_n_s32(vldrbq_s32(a + i), p->input1.offset), shift);
            const int32x4_t vb = vshlq_s32(vaddq_n_s32(vldrbq_s32(b + i), p->input2.offset), shift);
            const int32x4_t ra = enn_mbqm4_mve(va, m1, s1);
            const int32x4_t rb = enn_mbqm4_mve(vb, m2, s2);
            const int32x4_t raw = sign2 > 0 ? vaddq_s32(ra, rb) : vsubq_s32(ra, rb);
            const int32x4_t y = vaddq_n_s32(enn_mbqm4_mve(raw, mo, so), p->output.offset);
            vstrbq_s32(o + i, vminq_s32(vmaxq_s32(y, lo), hi));
        }
    }
#endif
#if defined(ENN_DSP) && !defined(ENN_MVE)
    if (f != 0 && sa == 1 && sb == 1 && n >= ENN_ARITH_LUT_MIN && f->ro >= 1) {
        enn_addsub_lut(f, sign2, n, a, b, o);
        return;
    }
#endif
    if (f != 0) {
        /* The parameters in locals: the byte stores could alias *f, and gcc would reload them. */
        const enn_arith_fast q = *f;
        if (sa == 0) {
            const int32_t va = enn_arith_in(a[0], q.off1, q.shift1, q.m1, q.r1);
            for (; i < n; i++) {
                o[i] = enn_arith_fast_out(&q, va + sign2 * enn_arith_in(b[i * sb], q.off2, q.shift1, q.m2, q.r2));
            }
        } else if (sb == 0) {
            const int32_t vb = sign2 * enn_arith_in(b[0], q.off2, q.shift1, q.m2, q.r2);
            for (; i < n; i++) {
                o[i] = enn_arith_fast_out(&q, enn_arith_in(a[i * sa], q.off1, q.shift1, q.m1, q.r1) + vb);
            }
        } else {
            for (; i < n; i++) {
                o[i] = enn_arith_fast_out(&q, enn_arith_in(a[i], q.off1, q.shift1, q.m1, q.r1) +
                                                  sign2 * enn_arith_in(b[i], q.off2, q.shift1, q.m2, q.r2));
            }
        }
        return;
    }
    for (; i < n; i++) {
        o[i] = enn_arith_out(p, enn_arith_scale(a[i * sa], &p->input1, p->left_shift) +
                                    sign2 * enn_arith_scale(b[i * sb], &p->input2, p->left_shift));
    }
}

typedef struct {
    const enn_arith_params *p;
    const enn_arith_fast *f;
    int32_t sign2;
} enn_addsub_ctx;

static inline void enn_addsub_rows(const void *ctx, int32_t n, const int8_t *a, int32_t sa, const int8_t *b,
                                   int32_t sb, int8_t *o)
{
    const enn_addsub_ctx *c = (const enn_addsub_ctx *)ctx;
    if (c->sign2 > 0) { /* a constant sign in each inlined copy */
        enn_addsub_row(c->p, c->f, 1, n, a, sa, b, sb, o);
    } else {
        enn_addsub_row(c->p, c->f, -1, n, a, sa, b, sb, o);
    }
}

/* output = input1 + sign2 * input2 in TFLM's arithmetic, broadcast; sign2 is 1 or -1. */
static inline void enn_addsub(const enn_arith_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output,
                              int32_t sign2)
{
    enn_arith_fast fast;
    enn_addsub_ctx ctx;
    ctx.p = prm;
    ctx.f = 0;
    ctx.sign2 = sign2;
    if (prm->left_shift >= 0 && prm->left_shift <= 21 && prm->input1.multiplier >= 0 && prm->input2.multiplier >= 0 &&
        prm->output.multiplier >= 0 && prm->input1.shift <= 0 && prm->input1.shift >= -31 && prm->input2.shift <= 0 &&
        prm->input2.shift >= -31 && prm->output.shift <= 0 && prm->output.shift >= -31) {
        fast.shift1 = prm->left_shift + 1;
        fast.off1 = prm->input1.offset;
        fast.m1 = prm->input1.multiplier;
        fast.r1 = -prm->input1.shift;
        fast.off2 = prm->input2.offset;
        fast.m2 = prm->input2.multiplier;
        fast.r2 = -prm->input2.shift;
        fast.mo = prm->output.multiplier;
        fast.ro = -prm->output.shift;
        fast.out_offset = prm->output.offset;
        fast.lo = prm->act.min;
        fast.hi = prm->act.max;
        ctx.f = &fast;
    }
    enn_bcast_run(prm->out_shape, prm->in1_shape, prm->in2_shape, ENN_ARITH_MAX_DIMS, input1, input2, output,
                  enn_addsub_rows, &ctx);
}

#endif /* EDGENN_ARITH_H */
