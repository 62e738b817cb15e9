/* The arithmetic contract in C: TFLM's int8 requantization (double rounding), bit for bit.
 * Mirrors runtime_py/fixedpoint.py; tests/test_fixedpoint.py checks the two against each other.
 * Assumes two's complement int32 and arithmetic right shift of negative values, which holds for
 * gcc and clang on every target edgenn supports. */
#ifndef EDGENN_FIXEDPOINT_H
#define EDGENN_FIXEDPOINT_H

#include <stdint.h>

/* round(a * b / 2^31), halves away from zero; the single overflow case saturates. */
static inline int32_t enn_srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t nudge;
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent, rounded to nearest, halves away from zero (exponent 0..31). */
static inline int32_t enn_rdbp(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * multiplier * 2^(shift - 31): TFLM MultiplyByQuantizedMultiplier. */
static inline int32_t enn_mbqm(int32_t x, int32_t multiplier, int shift)
{
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    /* The left shift wraps like TFLM's (which is compiled without overflow sanitizing). */
    return enn_rdbp(enn_srdhm((int32_t)((uint32_t)x << left), multiplier), right);
}

static inline int32_t enn_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* EDGENN_FIXEDPOINT_H */
