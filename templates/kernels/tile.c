/* tile: the output is written in order, one row of the innermost axis at a time: the input row
 * (at each outer axis' position modulo its extent) repeated to the output row's length. */
#include "tile.h"

void enn_tile(const enn_tile_params *prm, const int8_t *input, int8_t *output)
{
    int32_t in_stride[ENN_COPY_MAX_DIMS];
    int32_t idx[ENN_COPY_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
    const int32_t n_in = prm->in_shape[ENN_COPY_MAX_DIMS - 1];
    const int32_t n_out = prm->out_shape[ENN_COPY_MAX_DIMS - 1];
    enn_copy_strides(prm->in_shape, in_stride);
    do {
        const int8_t *src = input;
        int32_t i;
        int d;
        for (d = 0; d < ENN_COPY_MAX_DIMS - 1; d++) {
            src += (idx[d] % prm->in_shape[d]) * in_stride[d];
        }
        for (i = 0; i < n_out; i += n_in) {
            enn_copy_bytes(output + i, src, n_in);
        }
        output += n_out;
    } while (enn_copy_next(idx, prm->out_shape));
}
