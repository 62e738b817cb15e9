/* clip: clamp int8 values to [act.min, act.max], optionally requantizing first (TFLM's RELU). */
#include "clip.h"

#include "edgenn_fixedpoint.h"

void enn_clip(const enn_clip_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t n = prm->size;
    const int32_t lo = prm->act.min;
    const int32_t hi = prm->act.max;
    int32_t i;
    if (prm->requantize) {
        for (i = 0; i < n; i++) {
            const int32_t y = prm->output.offset + enn_mbqm((int32_t)input[i] + prm->input_offset,
                                                            prm->output.multiplier, (int)prm->output.shift);
            output[i] = (int8_t)enn_clamp(y, lo, hi);
        }
        return;
    }
    for (i = 0; i < n; i++) {
        output[i] = (int8_t)enn_clamp(input[i], lo, hi);
    }
}
