/* leaky_relu: int8 leaky ReLU (TFLM reference arithmetic). With x = input - input zero point:
 * output = clamp(output zero point + (x >= 0 ? x * identity multiplier : x * alpha multiplier)),
 * each product a MultiplyByQuantizedMultiplier; a negative alpha multiplier is applied as its
 * magnitude, then negated, as TFLM does. */
#include "leaky_relu.h"

#include "edgenn_fixedpoint.h"

void enn_leaky_relu(const enn_leaky_relu_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t n = prm->size;
    const int32_t in_zp = prm->input_zero_point;
    const uint32_t out_zp = (uint32_t)prm->output_zero_point;
    const int negative_alpha = prm->output_multiplier_alpha < 0;
    const int32_t alpha_mult = negative_alpha ? -prm->output_multiplier_alpha : prm->output_multiplier_alpha;
    const int alpha_shift = (int)prm->output_shift_alpha;
    const int32_t identity_mult = prm->output_multiplier_identity;
    const int identity_shift = (int)prm->output_shift_identity;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t x = (int32_t)input[i] - in_zp;
        int32_t v;
        if (x >= 0) {
            v = enn_mbqm(x, identity_mult, identity_shift);
        } else {
            v = enn_mbqm(x, alpha_mult, alpha_shift);
            v = negative_alpha ? -v : v;
        }
        /* The int32 sum wraps (only reachable with scale ratios beyond 2^23). */
        output[i] = (int8_t)enn_clamp((int32_t)(out_zp + (uint32_t)v), -128, 127);
    }
}
