/* hard_swish: int8 hard swish (TFLM reference arithmetic, on int16 values with gemmlowp's int16
 * primitives). int16 values are held in int32_t; every conversion TFLM makes to int16_t is
 * written out as a two's complement wrap. */
#include "hard_swish.h"

#include "edgenn_fixedpoint.h"

static int32_t hs_wrap16(int32_t x)
{
    return (int32_t)(((uint32_t)x + 32768u) & 0xFFFFu) - 32768;
}

/* gemmlowp SaturatingRoundingDoublingHighMul<int16_t> (C division truncates, as gemmlowp's). */
static int32_t hs_srdhm16(int32_t a, int32_t b)
{
    const int32_t ab = a * b;
    if (a == b && a == -32768) {
        return 32767;
    }
    return hs_wrap16((ab + (ab >= 0 ? (1 << 14) : 1 - (1 << 14))) / (1 << 15));
}

/* TFLM SaturatingDoublingHighMul<int16_t>: truncating, no rounding. */
static int32_t hs_sdhm16(int32_t a, int32_t b)
{
    if (a == b && a == -32768) {
        return 32767;
    }
    return hs_wrap16((a * b) / (1 << 15));
}

/* gemmlowp RoundingDivideByPOT<int16_t>, exponent 0..31. Its mask (1 << exponent) - 1 becomes an
 * int16_t: -1 for exponent >= 16, which makes the result 1 for x >= 0 and -1 for x < 0. */
static int32_t hs_rdbp16(int32_t x, int exponent)
{
    const int32_t mask = exponent >= 16 ? -1 : (int32_t)((1u << exponent) - 1u);
    const int32_t remainder = hs_wrap16(x & mask);
    const int32_t threshold = hs_wrap16((mask >> 1) + (x < 0 ? 1 : 0));
    return hs_wrap16((x >> exponent) + (remainder > threshold ? 1 : 0));
}

/* TFLM SaturatingLeftShift<int16_t>, amount 0..30. */
static int32_t hs_sat_left_shift16(int32_t x, int amount)
{
    const int64_t r = (int64_t)x * ((int64_t)1 << amount);
    return r > 32767 ? 32767 : (r < -32768 ? -32768 : (int32_t)r);
}

void enn_hard_swish(const enn_hard_swish_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t n = prm->size;
    const int32_t in_zp = prm->input_zero_point;
    const int32_t out_zp = prm->output_zero_point;
    const int32_t reluish_mult = prm->reluish_multiplier_fixedpoint_int16;
    const int reluish_exp = (int)prm->reluish_multiplier_exponent;
    const int32_t output_mult = prm->output_multiplier_fixedpoint_int16;
    const int output_rshift = -(int)prm->output_multiplier_exponent;
    int32_t i;
    for (i = 0; i < n; i++) {
        /* |input - zero point| <= 255: the value times 2^7 fits in int16. */
        const int32_t hires = ((int32_t)input[i] - in_zp) * 128;
        const int32_t preshift_output = hs_srdhm16(hires, output_mult);
        int32_t reluish = hires;
        int32_t out;
        /* Rescale to [-3, 3] -> [-1, 1] in Q0.15, saturating; in the left-shift case the last
         * bit of the shift comes after the multiplication. */
        if (reluish_exp > 0) {
            reluish = hs_sat_left_shift16(reluish, reluish_exp - 1);
        }
        reluish = hs_srdhm16(reluish, reluish_mult);
        if (reluish_exp > 0) {
            reluish = hs_sat_left_shift16(reluish, 1);
        } else if (reluish_exp < 0) {
            reluish = hs_rdbp16(reluish, -reluish_exp);
        }
        reluish = (reluish + 32768) >> 1; /* [-1, 1] -> [0, 1] */
        out = hs_rdbp16(hs_sdhm16(reluish, preshift_output), output_rshift);
        out = hs_wrap16(out + out_zp);
        output[i] = (int8_t)enn_clamp(out, -128, 127);
    }
}
