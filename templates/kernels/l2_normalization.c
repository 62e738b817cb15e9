/* l2_normalization: TFLM reference_integer_ops::L2Normalization, row by row: the int32 sum of
 * squares, TFLite's fixed-point inverse square root (enn_inv_sqrt_exp), then each value requantized
 * by it with 7 more bits (the output's 1/128 units). */
#include "l2_normalization.h"

#include "edgenn_fixedpoint.h"

void enn_l2_normalization(const enn_l2_normalization_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t depth = prm->depth;
    const int32_t zp = prm->input_zero_point;
    int32_t r;
    for (r = 0; r < prm->rows; r++) {
        const int8_t *x = input + r * depth;
        int8_t *y = output + r * depth;
        int32_t acc = 0;
        int32_t multiplier;
        int shift;
        int32_t i;
        for (i = 0; i < depth; i++) {
            const int32_t v = x[i] - zp;
            acc += v * v;
        }
        multiplier = enn_inv_sqrt_exp(acc, -1, &shift);
        for (i = 0; i < depth; i++) {
            y[i] = (int8_t)enn_clamp(enn_mbqm(x[i] - zp, multiplier, shift + 7), -128, 127);
        }
    }
}
