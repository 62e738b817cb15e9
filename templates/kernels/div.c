/* div: TFLM reference_ops::DivElementwise, bit for bit: the divisor's sign moves to the dividend,
 * the divisor becomes GetReciprocal's Q31 reciprocal and shift, the dividend is shifted left by its
 * redundant sign bits, multiplied, and requantized with the three shifts combined (always a right
 * shift, below 64: the converter checks the output shift; 32..63 as converter/ops/div.py says). */
#include "div.h"

#include "edgenn_fixedpoint.h"

/* TFLite CountLeadingSignBits (gcc's __builtin_clrsb): 31 for 0 and -1. */
static int clrsb32(int32_t x)
{
    return enn_clz32((uint32_t)(x < 0 ? ~x : x)) - 1;
}

static void div_rows(const void *ctx, int32_t n, const int8_t *a, int32_t sa, const int8_t *b, int32_t sb, int8_t *o)
{
    const enn_div_params *p = (const enn_div_params *)ctx;
    const int tflm = p->left_shift != 0;
    int32_t i;
    for (i = 0; i < n; i++) {
        int32_t v1 = a[i * sa] + p->input1.offset;
        int32_t v2 = b[i * sb] + p->input2.offset;
        int recip_shift;
        int32_t inv, headroom, unscaled, y;
        int shift;
        if (v2 < 0) {
            v1 = -v1;
            v2 = -v2;
        }
        inv = enn_get_reciprocal(v2, 31, &recip_shift);
        headroom = clrsb32(v1);
        unscaled = enn_srdhm((int32_t)((uint32_t)v1 << headroom), inv);
        shift = recip_shift + headroom - (int)p->output.shift;
        y = enn_srdhm(unscaled, p->output.multiplier);
        if (shift <= 31) {
            y = enn_rdbp(y, shift);
        } else if (tflm) { /* TFLM's x86-64 build of gemmlowp's (then undefined) shift */
            y = (y >> (shift - 32)) + (y >= 0 ? 1 : 0);
        } else { /* |y| < 2^31 over 2^32 or more rounds to 0 */
            y = 0;
        }
        o[i] = (int8_t)enn_clamp(y + p->output.offset, p->act.min, p->act.max);
    }
}

void enn_div(const enn_div_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    enn_bcast_run(prm->out_shape, prm->in1_shape, prm->in2_shape, ENN_ARITH_MAX_DIMS, input1, input2, output, div_rows,
                  prm);
}
