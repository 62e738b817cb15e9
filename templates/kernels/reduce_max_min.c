/* reduce_max_min: int8 requantizing copy (TFLM reference arithmetic, bit for bit). */
#include "reduce_max_min.h"

#include "edgenn_fixedpoint.h"

void enn_reduce_max_min(const enn_reduce_max_min_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t n = prm->size;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t y = enn_mbqm((int32_t)input[i] + prm->input_offset, prm->output.multiplier,
                                   (int)prm->output.shift) + prm->output.offset;
        output[i] = (int8_t)enn_clamp(y, -128, 127);
    }
}
