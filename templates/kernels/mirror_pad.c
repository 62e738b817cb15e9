/* mirror_pad: the output is written in order; output position p of an axis reads input position
 * p - before, mirrored back into [0, n) where it falls outside (TFLM's GetInputDimension). */
#include "mirror_pad.h"

static int32_t mirror(int32_t p, int32_t before, int32_t n, int32_t mode)
{
    int32_t i = p - before;
    if (mode == ENN_MIRROR_EDGE) {
        return i < 0 ? 0 : (i >= n ? n - 1 : i);
    }
    if (i < 0) {
        return mode == ENN_MIRROR_REFLECT ? -i : -i - 1;
    }
    if (i >= n) {
        return mode == ENN_MIRROR_REFLECT ? 2 * n - 2 - i : 2 * n - 1 - i;
    }
    return i;
}

void enn_mirror_pad(const enn_mirror_pad_params *prm, const int8_t *input, int8_t *output)
{
    int32_t in_stride[ENN_COPY_MAX_DIMS];
    int32_t idx[ENN_COPY_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
    const int last = ENN_COPY_MAX_DIMS - 1;
    const int32_t n_out = prm->out_shape[last];
    const int32_t n_in = prm->in_shape[last];
    const int32_t left = prm->before[last];
    const int32_t mode = prm->mode;
    enn_copy_strides(prm->in_shape, in_stride);
    do {
        const int8_t *src = input;
        int32_t i;
        int d;
        for (d = 0; d < last; d++) {
            src += mirror(idx[d], prm->before[d], prm->in_shape[d], mode) * in_stride[d];
        }
        for (i = 0; i < n_out; i++) {
            output[i] = src[mirror(i, left, n_in, mode)];
        }
        output += n_out;
    } while (enn_copy_next(idx, prm->out_shape));
}
