/* logistic: int8 sigmoid (TFLM reference arithmetic: gemmlowp fixed-point logistic on Q4.27). */
#include "logistic.h"

#include "edgenn_fixedpoint.h"

void enn_logistic(const enn_logistic_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t radius = prm->input_range_radius;
    int32_t i;
    for (i = 0; i < prm->size; i++) {
        const int32_t x = (int32_t)input[i] - prm->input_zero_point;
        int32_t out;
        if (x <= -radius) {
            out = -128;
        } else if (x >= radius) {
            out = 127;
        } else {
            /* radius > 0 here, so input_left_shift <= 30 and x * 2^shift fits in int32. */
            const int32_t q4 = enn_mbqm(x, prm->input_multiplier, (int)prm->input_left_shift);
            out = enn_rdbp(enn_logistic_fp(q4, 4), 31 - 8) - 128;
            out = enn_clamp(out, -128, 127);
        }
        output[i] = (int8_t)out;
    }
}
