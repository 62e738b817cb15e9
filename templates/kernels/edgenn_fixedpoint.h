/* The arithmetic contract in C: TFLM's int8 requantization (double rounding), bit for bit.
 * Mirrors runtime_py/fixedpoint.py; tests/test_fixedpoint.py checks the two against each other.
 * Assumes two's complement int32 and arithmetic right shift of negative values, which holds for
 * gcc and clang on every target edgenn supports.
 *
 * Also the helpers the kernels share: fast exact requantization forms (enn_rq_r, Helium's
 * enn_requant4_mve), target detection (ENN_DSP, ENN_MVE, ENN_DSP_ASM) and the int8 inner products
 * of convolutions and fully connected layers (enn_dot4 and its variants). tests/ops/test_*_qemu.py run
 * every operator's cases through the DSP (Cortex-M4) and Helium (Cortex-M55) builds. */
#ifndef EDGENN_FIXEDPOINT_H
#define EDGENN_FIXEDPOINT_H

#include "edgenn_prefix.h"

#include <stdint.h>

/* gemmlowp SaturatingRoundingDoublingHighMul: floor(a * b / 2^31 + 1/2), INT32_MIN squared saturates.
 * gemmlowp nudges by 2^30 or 1 - 2^30 and divides with truncation; for every other input that
 * equals the plain 64-bit product plus 2^30, shifted right arithmetically by 31 (floor). */
static inline int32_t enn_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent, rounded to nearest, halves away from zero (exponent 0..31). */
static inline int32_t enn_rdbp(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31): TFLM MultiplyByQuantizedMultiplier (shift -31..31).
 *
 * With a right shift r = -shift >= 1 the two roundings fuse into one 64-bit expression. Let
 * P = x * multiplier, s = floor((P + 2^30) / 2^31) (SRDHM) and the result RDBP(s, r) =
 * floor((s + 2^(r-1) - [s < 0]) / 2^r). Integer offsets pass through the floors, so the result
 * is floor((P + 2^30 + 2^(30+r) - [s < 0] 2^31) / 2^(31+r)); and [P < 0] may replace [s < 0]:
 * they differ only for -2^30 <= P < 0, where both forms give 0. No overflow: |P| <= 2^62. */
static inline int32_t enn_mbqm(int32_t x, int32_t multiplier, int shift)
{
    int64_t p;
    if (shift >= 0) {
        /* The left shift wraps like TFLM's (which is compiled without overflow sanitizing). */
        return enn_srdhm((int32_t)((uint32_t)x << shift), multiplier);
    }
    if (x == multiplier && x == INT32_MIN) {
        return enn_rdbp(INT32_MAX, -shift);
    }
    p = (int64_t)x * (int64_t)multiplier;
    p += ((int64_t)1 << 30) + ((int64_t)1 << (30 - shift)) - (p < 0 ? ((int64_t)1 << 31) : 0);
    return (int32_t)(p >> (31 - shift));
}

/* ---------------------------------------------------------------------------------------------
 * Requantization in the kernels' inner loops, bit-exact with enn_mbqm for every int32 accumulator,
 * in about half the instructions. A layer checks once that it qualifies (enn_rq_layer_ok: every
 * channel has multiplier 0, or multiplier in [2^30, 2^31) with shift -31..-1: every multiplier
 * edgenn's converter makes for a real scale below 1/2), and the op templates give each channel's
 * t = r - 1 = clamp(-shift, 1, 31) - 1 in a byte table. Then, for multiplier m > 0:
 * - SRDHM(x, m) = floor((x 2m + 2^31) / 2^32). 2m does not fit an int32, but m2 = 2m - 2^32 does,
 *   and x 2m = x m2 + x 2^32, so SRDHM(x, m) = x + floor((x m2 + 2^31) / 2^32): one SMMLAR
 *   (accumulate x into the rounded high word), exact for every x;
 * - RDBP(s, r) = floor((s - [s < 0] + 2^(r-1)) / 2^r) (negative halves away from zero)
 *   = (((s - [s < 0]) >> (r - 1)) + 1) >> 1, with no intermediate overflow (|s| < 2^31 - 1).
 * A zero multiplier gives 0. */

/* (a * b + 2^31) >> 32: the rounded high word of the 64-bit product (SMMULR). With |a| < 2^30 it
 * gives SRDHM(a, b) as enn_smmulr(2a, b). */
static inline int32_t enn_smmulr(int32_t a, int32_t b)
{
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(__aarch64__)
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 31)) >> 32);
#endif
}

/* SRDHM(x, m) for m in [2^30, 2^31), any x (see above). */
static inline int32_t enn_srdhm_q(int32_t x, int32_t m)
{
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(__aarch64__)
    int32_t r;
    __asm__("smmlar %0, %1, %2, %1" : "=r"(r) : "r"(x), "r"((int32_t)((uint32_t)m << 1)));
    return r;
#else
    return (int32_t)(((int64_t)x * (int64_t)m + ((int64_t)1 << 30)) >> 31);
#endif
}

/* enn_mbqm(x, m, shift) for a qualifying channel, given t = -shift - 1 (0..30). */
static inline int32_t enn_rq_r(int32_t x, int32_t m, int32_t t)
{
    int32_t s;
    if (m == 0) {
        return 0;
    }
    s = enn_srdhm_q(x, m);
    s += s >> 31; /* s - [s < 0] */
    return ((s >> t) + 1) >> 1;
}

/* Whether a layer's channels all qualify for enn_rq_r (n channels). */
static inline int enn_rq_layer_ok(const int32_t *multiplier, const int8_t *shift, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t m = multiplier[i];
        if (m != 0 && (m < (int32_t)1 << 30 || shift[i] > -1 || shift[i] < -31)) {
            return 0;
        }
    }
    return 1;
}

/* Whether no channel of a layer has multiplier 0 (n channels): enn_rq8 needs it. */
static inline int enn_rq_layer_nz(const int32_t *multiplier, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        if (multiplier[i] == 0) {
            return 0;
        }
    }
    return 1;
}

/* enn_rq_r(x, m, t) + out_offset, saturated to int8, for a qualifying channel, given
 * c2 = 2 out_offset + 1: ((s >> t) + 1) >> 1 + out_offset = ((s >> t) + c2) >> 1, 2 out_offset being
 * even. The DSP extension adds with saturation (QADD: a sum beyond the int32 range is beyond the
 * int8 range either way) and halves inside the SSAT: six instructions from accumulator to byte.
 * A zero multiplier needs t = 31 (the op templates' rshift tables hold it): then s = x and
 * s >> 31 is 0 or -1, both of which give out_offset, as enn_rq_r's 0 does. */
static inline int32_t enn_rq8(int32_t x, int32_t m, int32_t t, int32_t c2)
{
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(__aarch64__)
    int32_t s = enn_srdhm_q(x, m);
    int32_t r;
    s += s >> 31;
    __asm__("qadd %0, %1, %2" : "=r"(r) : "r"(s >> t), "r"(c2));
    __asm__("ssat %0, #8, %1, asr #1" : "=r"(s) : "r"(r));
    return s;
#else
    /* The same steps in 64 bits (m = 0: s = 0, and (0 + c2) >> 1 = out_offset). */
    int32_t s = enn_srdhm_q(x, m);
    int64_t v;
    s += s >> 31;
    v = ((int64_t)(s >> t) + c2) >> 1;
    return v < -128 ? -128 : (v > 127 ? 127 : (int32_t)v);
#endif
}

static inline int32_t enn_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* ---------------------------------------------------------------------------------------------
 * gemmlowp fixed point (fixedpoint/fixedpoint.h) on int32 raw values, as TFLM's softmax and
 * logistic use it. A FixedPoint<int32, k> is its raw int32 (k integer bits, 31 - k fractional
 * bits). gemmlowp's plain adds/subtracts wrap here (they are never meant to overflow).
 * Mirrors the gemmlowp section of runtime_py/fixedpoint.py. */

static inline int32_t enn_add_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t enn_sub_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* SaturatingRoundingMultiplyByPOT: saturating x * 2^exponent (exponent > 0) or rounding
 * x / 2^-exponent (exponent < 0); exponent in -31..31. */
static inline int32_t enn_sat_mul_pot(int32_t x, int exponent)
{
    int32_t threshold;
    if (exponent == 0) {
        return x;
    }
    if (exponent < 0) {
        return enn_rdbp(x, -exponent);
    }
    threshold = (int32_t)(((uint32_t)1 << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* RoundingHalfSum: (a + b) / 2, halves away from zero. */
static inline int32_t enn_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out. */
static inline int32_t enn_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668; /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;
    const int32_t x = enn_add_wrap(a, (int32_t)1 << 28);
    const int32_t x2 = enn_srdhm(x, x);
    const int32_t x3 = enn_srdhm(x2, x);
    const int32_t x4 = enn_srdhm(x2, x2);
    const int32_t x4_over_4 = enn_rdbp(x4, 2);
    const int32_t poly = enn_rdbp(enn_add_wrap(enn_srdhm(enn_add_wrap(x4_over_4, x3), constant_1_over_3), x2), 1);
    return enn_add_wrap(constant_term, enn_srdhm(constant_term, enn_add_wrap(x, poly)));
}

/* exp(a) for a <= 0 given in Q(integer_bits).(31 - integer_bits); result Q0.31.
 * integer_bits in 1..30 (TFLM uses 5 in softmax, 4 in logistic). */
static inline int32_t enn_exp_on_negative_values(int32_t a, int integer_bits)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int frac = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (frac - 2);
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = enn_exp_on_interval_between_negative_one_quarter_and_0_excl(
        enn_sat_mul_pot(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = enn_sub_wrap(a_mod_quarter_minus_one_quarter, a);
    int exponent;
    for (exponent = -2; exponent <= 4; exponent++) {
        if (integer_bits > exponent && ((uint32_t)remainder & ((uint32_t)1 << (frac + exponent))) != 0u) {
            result = enn_srdhm(result, barrel[exponent + 2]);
        }
    }
    if (integer_bits > 5 && a < -((int32_t)1 << (36 - integer_bits))) {
        result = 0;
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson, three steps). */
static inline int32_t enn_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t half_denominator = enn_rounding_half_sum(a, INT32_MAX);
    const int32_t constant_48_over_17 = 1515870810;     /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    int32_t x = enn_add_wrap(constant_48_over_17, enn_srdhm(half_denominator, constant_neg_32_over_17));
    int i;
    for (i = 0; i < 3; i++) {
        const int32_t half_denominator_times_x = enn_srdhm(half_denominator, x);
        const int32_t one_minus = enn_sub_wrap((int32_t)1 << 29, half_denominator_times_x);
        x = enn_add_wrap(x, enn_sat_mul_pot(enn_srdhm(x, one_minus), 2));
    }
    return enn_sat_mul_pot(x, 1);
}

/* gemmlowp logistic: 1 / (1 + exp(-a)) for a in Q(integer_bits); result Q0.31. */
static inline int32_t enn_logistic_fp(int32_t a, int integer_bits)
{
    const int32_t abs_input = a > 0 ? a : enn_sub_wrap(0, a);
    const int32_t result_if_positive =
        enn_one_over_one_plus_x_for_x_in_0_1(enn_exp_on_negative_values(enn_sub_wrap(0, abs_input), integer_bits));
    if (a == 0) {
        return (int32_t)1 << 30;
    }
    return a > 0 ? result_if_positive : enn_sub_wrap(INT32_MAX, result_if_positive);
}

/* Leading zero bits of x (32 for 0). */
static inline int enn_clz32(uint32_t x)
{
#if defined(__GNUC__)
    return x == 0u ? 32 : __builtin_clz(x);
#else
    int n = 0;
    if (x == 0u) {
        return 32;
    }
    while ((x & 0x80000000u) == 0u) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

/* TFLite GetReciprocal: 1/x as a Q0.31 value in [0.5, 1) and its exponent num_bits_over_unit.
 * x > 0 in Q(x_integer_digits). */
static inline int32_t enn_get_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit)
{
    const int headroom_plus_one = enn_clz32((uint32_t)x);
    const uint32_t shifted = headroom_plus_one < 32 ? ((uint32_t)x << headroom_plus_one) : 0u;
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    return enn_one_over_one_plus_x_for_x_in_0_1((int32_t)(shifted - 0x80000000u));
}

/* TFLite GetInvSqrtQuantizedMultiplierExp: 1/sqrt(x) for x >= 0 as a Q31 multiplier and a shift
 * (times reverse_shift), by 5 Newton-Raphson steps in FixedPoint<int32, 3>; x <= 1 gives
 * (INT32_MAX, 0). Mirrors fixedpoint.get_inv_sqrt_quantized_multiplier_exp. */
static inline int32_t enn_inv_sqrt_exp(int32_t x, int reverse_shift, int *shift_out)
{
    int shift = 11;
    int pairs;
    int32_t half_input;
    int32_t v = (int32_t)1 << 28; /* F3 one */
    int i;
    if (x <= 1) {
        *shift_out = 0;
        return INT32_MAX;
    }
    while (x >= ((int32_t)1 << 29)) {
        x /= 4;
        shift++;
    }
    pairs = (enn_clz32((uint32_t)x) - 1) / 2 - 1;
    shift -= pairs;
    x = (int32_t)((uint32_t)x << (2 * pairs));
    half_input = enn_rdbp(x >> 1, 1);
    for (i = 0; i < 5; i++) {
        const int32_t x3 = enn_sat_mul_pot(enn_srdhm(enn_srdhm(v, v), v), 6);
        v = enn_sat_mul_pot(enn_sub_wrap(enn_srdhm((1 << 28) + (1 << 27), v), enn_srdhm(half_input, x3)), 3);
    }
    v = enn_srdhm(v, 1518500250); /* times sqrt(2) / 2 */
    if (shift < 0) {
        v = (int32_t)((uint32_t)v << -shift);
        shift = 0;
    }
    *shift_out = shift * reverse_shift;
    return v;
}

#endif /* EDGENN_FIXEDPOINT_H */
