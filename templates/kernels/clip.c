/* clip: clamp int8 values to [act_min, act_max]. */
#include "clip.h"

#include "edgenn_fixedpoint.h"

void {{ kp }}clip(const {{ kp }}clip_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t n = prm->size;
    const int32_t lo = prm->act_min;
    const int32_t hi = prm->act_max;
    int32_t i;
    for (i = 0; i < n; i++) {
        output[i] = (int8_t)enn_clamp(input[i], lo, hi);
    }
}
