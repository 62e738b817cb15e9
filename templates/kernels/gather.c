/* gather: the output is written in order, one inner row per (batch, outer, coordinate). */
#include "gather.h"

void enn_gather(const enn_gather_params *prm, const int8_t *input, const int32_t *indices, int8_t *output)
{
    const int32_t inner = prm->inner, extent = prm->axis_size;
    const int32_t *all = indices ? indices : prm->indices;
    int32_t b, o, c;
    for (b = 0; b < prm->batch; b++) {
        const int32_t *idx = all + b * prm->coords;
        for (o = 0; o < prm->outer; o++) {
            const int8_t *src = input + (b * prm->outer + o) * extent * inner;
            for (c = 0; c < prm->coords; c++) {
                int32_t row = idx[c];
                if (indices) { /* read at run time: ONNX's negative indices, then clamped */
                    row = row < 0 ? row + extent : row;
                    row = row < 0 ? 0 : (row >= extent ? extent - 1 : row);
                }
                enn_copy_bytes(output, src + row * inner, inner);
                output += inner;
            }
        }
    }
}
