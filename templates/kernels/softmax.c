/* softmax: int8 softmax (TFLM reference arithmetic: gemmlowp fixed-point exp and reciprocal). */
#include "softmax.h"

#include "edgenn_fixedpoint.h"

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUMULATION_INTEGER_BITS 12

/* exp((x - max) * beta * input_scale) in Q0.31 for a difference >= diff_min. */
static int32_t softmax_exp(const enn_softmax_params *prm, int32_t diff)
{
    const int32_t rescaled = enn_srdhm((int32_t)((uint32_t)diff << prm->input_left_shift), prm->input_multiplier);
    return enn_exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS);
}

void enn_softmax(const enn_softmax_params *prm, const int8_t *input, void *output)
{
    const int32_t depth = prm->depth;
    const int32_t diff_min = prm->diff_min;
    const int32_t lo = prm->output_int16 ? -32768 : -128;
    const int32_t hi = prm->output_int16 ? 32767 : 127;
    int32_t r;
    for (r = 0; r < prm->rows; r++) {
        const int8_t *x = input + r * depth;
        int32_t max = -128;
        int32_t sum = 0; /* Q12.19; < 2^31 for depth < 4096 */
        int32_t scale;
        int bits_over_unit;
        int exponent;
        int32_t c;
        for (c = 0; c < depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)x[c] - max;
            if (diff >= diff_min) {
                sum += enn_rdbp(softmax_exp(prm, diff), ACCUMULATION_INTEGER_BITS);
            }
        }
        scale = enn_get_reciprocal(sum, ACCUMULATION_INTEGER_BITS, &bits_over_unit);
        exponent = bits_over_unit + 31 - (prm->output_int16 ? 16 : 8);
        /* An exponent > 31 (int8: a sum of exponentials >= 512) makes TFLM abort; every probability is
         * then tiny and edgenn outputs the minimum, which is what the rounding shift tends to. */
        for (c = 0; c < depth; c++) {
            const int32_t diff = (int32_t)x[c] - max;
            int32_t out = lo;
            if (diff >= diff_min && exponent <= 31) {
                out = enn_clamp(enn_rdbp(enn_srdhm(scale, softmax_exp(prm, diff)), exponent) + lo, lo, hi);
            }
            if (prm->output_int16) {
                ((int16_t *)output)[r * depth + c] = (int16_t)out;
            } else {
                ((int8_t *)output)[r * depth + c] = (int8_t)out;
            }
        }
    }
}

#undef SCALED_DIFF_INTEGER_BITS
#undef ACCUMULATION_INTEGER_BITS
