/* l2_normalization: int8 requantizing copy (TFLM reference arithmetic, bit for bit). */
#include "l2_normalization.h"

#include "edgenn_fixedpoint.h"

void enn_l2_normalization(const enn_l2_normalization_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t n = prm->size;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t y = enn_mbqm((int32_t)input[i] + prm->input_offset, prm->output.multiplier,
                                   (int)prm->output.shift) + prm->output.offset;
        output[i] = (int8_t)enn_clamp(y, -128, 127);
    }
}
