/* gather: the output is written in order, one inner row per (batch, outer, coordinate). */
#include "gather.h"

void enn_gather(const enn_gather_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t inner = prm->inner;
    int32_t b, o, c;
    for (b = 0; b < prm->batch; b++) {
        const int32_t *idx = prm->indices + b * prm->coords;
        for (o = 0; o < prm->outer; o++) {
            const int8_t *src = input + (b * prm->outer + o) * prm->axis_size * inner;
            for (c = 0; c < prm->coords; c++) {
                enn_copy_bytes(output, src + idx[c] * inner, inner);
                output += inner;
            }
        }
    }
}
