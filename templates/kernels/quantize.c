/* quantize: int8 / int16 -> int8 / int16 / int32 requantization (TFLM reference arithmetic, bit for bit). */
#include "quantize.h"

#include "edgenn_fixedpoint.h"

void enn_quantize(const enn_quantize_params *prm, const void *input, void *output)
{
    const int32_t n = prm->size;
    const int32_t lo = prm->output_bytes == 4 ? INT32_MIN : prm->output_bytes == 2 ? -32768 : -128;
    const int32_t hi = prm->output_bytes == 4 ? INT32_MAX : prm->output_bytes == 2 ? 32767 : 127;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t x = prm->input_int16 ? (int32_t)((const int16_t *)input)[i] : (int32_t)((const int8_t *)input)[i];
        const int32_t y = enn_clamp(enn_mbqm(x + prm->input_offset, prm->output.multiplier, (int)prm->output.shift) +
                                    prm->output.offset, lo, hi);
        if (prm->output_bytes == 4) {
            ((int32_t *)output)[i] = y;
        } else if (prm->output_bytes == 2) {
            ((int16_t *)output)[i] = (int16_t)y;
        } else {
            ((int8_t *)output)[i] = (int8_t)y;
        }
    }
}
