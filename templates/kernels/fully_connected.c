/* fully_connected: int8 dense layer (TFLM reference arithmetic). */
#include "fully_connected.h"

#include "edgenn_fixedpoint.h"

void {{ kp }}fully_connected(const {{ kp }}fully_connected_params *prm, const int8_t *input, const int8_t *filter,
                             const int32_t *bias, int8_t *output)
{
    const int32_t depth = prm->accum_depth;
    int32_t b;
    int32_t u;
    for (b = 0; b < prm->batches; b++) {
        const int8_t *x = input + b * depth;
        for (u = 0; u < prm->output_depth; u++) {
            const int8_t *w = filter + u * depth;
            const int32_t c = prm->per_channel ? u : 0;
            int32_t acc = bias != 0 ? bias[u] : 0;
            int32_t d;
            for (d = 0; d < depth; d++) {
                acc += ((int32_t)w[d] + prm->filter_offset) * ((int32_t)x[d] + prm->input_offset);
            }
            acc = enn_mbqm(acc, prm->multiplier[c], (int)prm->shift[c]) + prm->output_offset;
            output[b * prm->output_depth + u] = (int8_t)enn_clamp(acc, prm->act_min, prm->act_max);
        }
    }
}
