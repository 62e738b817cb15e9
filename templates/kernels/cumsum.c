/* cumsum: TFLM reference_ops::CumSum (int8): per position across the other axes, a walk along the
 * axis (backwards when reversed) adding each rescaled input to a wrapping int32 accumulator and
 * writing the accumulator, before or after the addition, requantized. */
#include "cumsum.h"

#include "edgenn_fixedpoint.h"

void enn_cumsum(const enn_cumsum_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t depth = prm->depth;
    const int32_t after = prm->after;
    const int32_t step = prm->reverse ? -after : after;
    int32_t b;
    for (b = 0; b < prm->before; b++) {
        int32_t a;
        for (a = 0; a < after; a++) {
            int32_t idx = b * depth * after + a + (prm->reverse ? (depth - 1) * after : 0);
            int32_t acc = prm->accumulator_init;
            int32_t d;
            for (d = 0; d < depth; d++, idx += step) {
                const int32_t shifted = (int32_t)((uint32_t)(input[idx] + prm->input.offset) << prm->left_shift);
                const int32_t scaled = enn_mbqm(shifted, prm->input.multiplier, (int)prm->input.shift);
                int32_t out;
                if (prm->exclusive) {
                    out = acc;
                    acc = enn_add_wrap(acc, scaled);
                } else {
                    acc = enn_add_wrap(acc, scaled);
                    out = acc;
                }
                out = enn_mbqm(out, prm->output.multiplier, (int)prm->output.shift) + prm->output.offset;
                output[idx] = (int8_t)enn_clamp(out, prm->act.min, prm->act.max);
            }
        }
    }
}
