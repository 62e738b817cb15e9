/* tanh: int8 tanh (TFLM reference arithmetic: gemmlowp fixed-point tanh on Q4.27). */
#include "tanh.h"

#include "edgenn_fixedpoint.h"

/* gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: (1 - a) / (1 + a), Q0.31 in and out
 * (Newton-Raphson division in Q2.29, three steps). */
static int32_t tanh_one_minus_x_over_one_plus_x(int32_t a)
{
    const int32_t half_denominator = enn_rounding_half_sum(a, INT32_MAX);
    const int32_t constant_48_over_17 = 1515870810;     /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = enn_add_wrap(constant_48_over_17, enn_srdhm(half_denominator, constant_neg_32_over_17));
    int i;
    for (i = 0; i < 3; i++) {
        const int32_t one_minus = enn_sub_wrap(one_q2, enn_srdhm(half_denominator, x));
        x = enn_add_wrap(x, enn_sat_mul_pot(enn_srdhm(x, one_minus), 2));
    }
    return enn_sat_mul_pot(enn_sub_wrap(x, one_q2), 2);
}

/* gemmlowp tanh(FixedPoint<int32, 4>) in Q0.31: with n = -|a|, tanh(|a|) = (1 - e) / (1 + e),
 * e = exp(2n) (n read with 5 integer bits is 2n). */
static int32_t tanh_q4(int32_t a)
{
    const int32_t n = a < 0 ? a : enn_sub_wrap(0, a);
    const int32_t t = tanh_one_minus_x_over_one_plus_x(enn_exp_on_negative_values(n, 5));
    if (a == 0) {
        return 0;
    }
    return a < 0 ? enn_sub_wrap(0, t) : t;
}

static int8_t tanh_value(const enn_tanh_params *prm, int32_t v)
{
    const int32_t x = v - prm->input_zero_point;
    const int32_t radius = prm->input_range_radius;
    int32_t q4;
    if (x <= -radius) {
        return -128;
    }
    if (x >= radius) {
        return 127;
    }
    /* radius > 0 here, so input_left_shift <= 30 and x * 2^shift fits in int32. */
    q4 = enn_mbqm(x, prm->input_multiplier, (int)prm->input_left_shift);
    return (int8_t)enn_clamp(enn_rdbp(tanh_q4(q4), 31 - 7), -128, 127);
}

void enn_tanh(const enn_tanh_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t n = prm->size;
    int32_t i;
    if (n > 256) {
        /* Cheaper through a table of all 256 input values (on the stack). */
        int8_t table[256];
        for (i = 0; i < 256; i++) {
            table[i] = tanh_value(prm, i - 128);
        }
        for (i = 0; i < n; i++) {
            output[i] = table[(int32_t)input[i] + 128];
        }
        return;
    }
    for (i = 0; i < n; i++) {
        output[i] = tanh_value(prm, input[i]);
    }
}
