/* log_softmax: int8 log-softmax (TFLM reference arithmetic: gemmlowp fixed-point exp, TFLite's
 * fixed-point log). Per row: diff = x - max; the sum of exp(diff) for diff >= diff_min in Q12.19,
 * its log in Q5.26; an element whose diff exceeds max(diff_min - 1, requant(log - 2^31, reverse
 * scaling)) gets RoundingDivideByPOT(diff in Q5.26 - log, 22) + 127, the others -128. */
#include "log_softmax.h"

#include "edgenn_fixedpoint.h"

#define INPUT_INTEGER_BITS 5
#define ACCUMULATION_INTEGER_BITS 12
#define OUTPUT_INTEGER_BITS 4
#define LOG_ACCUM_BITS (INPUT_INTEGER_BITS + 1)

/* SaturatingRoundingMultiplyByPOTParam for exponent 0..31: saturating x * 2^exponent. */
static int32_t sat_shift_left(int32_t x, int exponent)
{
    return exponent == 0 ? x : enn_sat_mul_pot(x, exponent);
}

static int32_t sat_add(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + (int64_t)b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}

/* TFLite log_x_for_x_greater_than_or_equal_to_1<5>(FixedPoint<int32, 12>): ln(x), x >= 1 in
 * Q12.19, result in Q5.26. */
static int32_t log_q12_to_q5(int32_t x)
{
    const int32_t log_2 = 1488522236;
    const int32_t sqrt_sqrt_half = 1805811301;
    const int32_t sqrt_half = 1518500250;
    const int32_t alpha_n = 117049297;
    const int32_t alpha_d = 127690142;
    const int32_t alpha_i = 1057819769;
    const int32_t alpha_f = 638450708;
    const int32_t shifted_quarter = enn_rdbp(536870912, LOG_ACCUM_BITS); /* 1/4 in Q6.25 */
    const int z_a_headroom_plus_1 = enn_clz32((uint32_t)x);
    const int32_t r_a_tmp = sat_shift_left(x, z_a_headroom_plus_1 - 1);
    const int32_t r_a_raw = sat_shift_left(enn_srdhm(r_a_tmp, sqrt_half), 1);
    const int32_t z_a_pow_2_adj =
        sat_add(sat_shift_left(ACCUMULATION_INTEGER_BITS - z_a_headroom_plus_1, 31 - LOG_ACCUM_BITS), shifted_quarter);
    const int32_t z_b = enn_srdhm(x, sqrt_half);
    const int z_b_headroom = enn_clz32((uint32_t)z_b) - 1;
    const int32_t r_b_raw = sat_shift_left(x, z_b_headroom);
    const int32_t z_b_pow_2_adj =
        sat_add(sat_shift_left(ACCUMULATION_INTEGER_BITS - z_b_headroom, 31 - LOG_ACCUM_BITS), -shifted_quarter);
    const int32_t r = r_a_raw < r_b_raw ? r_a_raw : r_b_raw;
    const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;
    const int32_t p = enn_rounding_half_sum(r, sqrt_sqrt_half);
    int32_t q = enn_sub_wrap(r, sqrt_sqrt_half);
    int32_t common_sq;
    int32_t num;
    int32_t denom_minus_one;
    int32_t recip_denom;
    q = enn_add_wrap(q, q);
    common_sq = enn_srdhm(q, q);
    num = enn_add_wrap(enn_srdhm(q, r), enn_srdhm(enn_srdhm(q, common_sq), alpha_n));
    denom_minus_one = enn_add_wrap(
        enn_srdhm(p, enn_add_wrap(enn_add_wrap(alpha_i, q), enn_srdhm(alpha_d, common_sq))), enn_srdhm(alpha_f, q));
    recip_denom = enn_one_over_one_plus_x_for_x_in_0_1(denom_minus_one);
    return enn_sat_mul_pot(enn_add_wrap(enn_srdhm(z_pow_2_adj, log_2),
                                        enn_srdhm(enn_rdbp(num, LOG_ACCUM_BITS), recip_denom)),
                           LOG_ACCUM_BITS - INPUT_INTEGER_BITS);
}

void enn_log_softmax(const enn_log_softmax_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t depth = prm->depth;
    const int32_t diff_min = prm->diff_min;
    const int32_t multiplier = prm->input_multiplier;
    const int left_shift = (int)prm->input_left_shift;
    int32_t r;
    for (r = 0; r < prm->rows; r++) {
        const int8_t *x = input + r * depth;
        int8_t *y = output + r * depth;
        int32_t max = -128;
        int32_t sum = 0; /* Q12.19; < 2^31 for depth < 4096 */
        int32_t log_sum;
        int32_t adjusted_diff_min;
        int32_t reverse;
        int32_t c;
        for (c = 0; c < depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)x[c] - max;
            if (diff >= diff_min) {
                sum += enn_rdbp(enn_exp_on_negative_values(enn_mbqm(diff, multiplier, left_shift), INPUT_INTEGER_BITS),
                                ACCUMULATION_INTEGER_BITS);
            }
        }
        log_sum = log_q12_to_q5(sum);
        reverse = enn_mbqm(enn_add_wrap(log_sum, INT32_MIN), prm->reverse_scaling_divisor,
                           -(int)prm->reverse_scaling_right_shift);
        adjusted_diff_min = diff_min - 1 > reverse ? diff_min - 1 : reverse;
        for (c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)x[c] - max;
            int32_t out = -128;
            if (diff > adjusted_diff_min) {
                out = enn_rdbp(enn_sub_wrap(enn_mbqm(diff, multiplier, left_shift), log_sum),
                               31 - INPUT_INTEGER_BITS - OUTPUT_INTEGER_BITS) + 127;
                out = enn_clamp(out, -128, 127);
            }
            y[c] = (int8_t)out;
        }
    }
}

#undef INPUT_INTEGER_BITS
#undef ACCUMULATION_INTEGER_BITS
#undef OUTPUT_INTEGER_BITS
#undef LOG_ACCUM_BITS
