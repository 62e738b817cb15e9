/* slice: the output is written in order, one row of the innermost axis at a time; each row reads
 * the input from begin with the innermost stride. A slice that is one contiguous run of the input
 * is a single copy, or nothing when the planner placed the output on those bytes. */
#include "slice.h"

void enn_slice(const enn_slice_params *prm, const int8_t *input, int8_t *output)
{
    int32_t in_stride[ENN_COPY_MAX_DIMS];
    int32_t idx[ENN_COPY_MAX_DIMS] = {0, 0, 0, 0, 0, 0};
    const int32_t row = prm->size[ENN_COPY_MAX_DIMS - 1];
    const int32_t step = prm->stride[ENN_COPY_MAX_DIMS - 1];
    int32_t base = 0;
    int32_t total = 1;
    int contiguous = 1;
    int whole = 1;
    int d;
    enn_copy_strides(prm->in_shape, in_stride);
    for (d = ENN_COPY_MAX_DIMS - 1; d >= 0; d--) {
        const int32_t n = prm->size[d];
        if (n > 1 && (!whole || prm->stride[d] != 1)) {
            contiguous = 0;
        }
        whole = whole && n == prm->in_shape[d];
        base += prm->begin[d] * in_stride[d];
        total *= n;
    }
    if (contiguous) {
        enn_copy_bytes(output, input + base, total);
        return;
    }
    do {
        const int8_t *src = input + prm->begin[ENN_COPY_MAX_DIMS - 1];
        int32_t i;
        for (d = 0; d < ENN_COPY_MAX_DIMS - 1; d++) {
            src += (prm->begin[d] + idx[d] * prm->stride[d]) * in_stride[d];
        }
        for (i = 0; i < row; i++) {
            output[i] = src[i * step];
        }
        output += row;
    } while (enn_copy_next(idx, prm->size));
}
