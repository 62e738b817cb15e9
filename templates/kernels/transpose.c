/* transpose: the output is written in order; the input is read with the stride of the input
 * axis that each output axis comes from. Extent-1 axes are dropped and output axes that are
 * also consecutive in the input are merged, so the inner loop is as long as possible. */
#include "transpose.h"

void enn_transpose(const enn_transpose_params *prm, const int8_t *input, int8_t *output)
{
    int32_t in_stride[ENN_TRANSPOSE_MAX_DIMS];
    int32_t shape[ENN_TRANSPOSE_MAX_DIMS]; /* merged loops, innermost first */
    int32_t stride[ENN_TRANSPOSE_MAX_DIMS];
    int32_t idx[ENN_TRANSPOSE_MAX_DIMS];
    int32_t acc = 1;
    int32_t nd = 0;
    int32_t outer = 1;
    int32_t ii = 0;
    int32_t it;
    int d;
    for (d = ENN_TRANSPOSE_MAX_DIMS - 1; d >= 0; d--) {
        in_stride[d] = acc;
        acc *= prm->in_shape[d];
    }
    for (d = ENN_TRANSPOSE_MAX_DIMS - 1; d >= 0; d--) {
        const int32_t n = prm->in_shape[prm->perm[d]];
        const int32_t s = in_stride[prm->perm[d]];
        if (n == 1) {
            continue;
        }
        /* cppcheck-suppress uninitvar ; entries below nd are set (a false positive of cppcheck 2.10) */
        if (nd > 0 && s == stride[nd - 1] * shape[nd - 1]) {
            shape[nd - 1] *= n;
        } else {
            shape[nd] = n;
            stride[nd] = s;
            nd++;
        }
    }
    if (nd == 0) {
        output[0] = input[0];
        return;
    }
    for (d = 1; d < nd; d++) {
        idx[d] = 0;
        outer *= shape[d];
    }
    for (it = 0; it < outer; it++) {
        const int32_t n = shape[0];
        const int32_t s = stride[0];
        const int8_t *src = input + ii;
        int32_t i;
        if (s == 1) {
            for (i = 0; i < n; i++) {
                output[i] = src[i];
            }
        } else {
            for (i = 0; i < n; i++) {
                output[i] = src[i * s];
            }
        }
        output += n;
        for (d = 1; d < nd; d++) { /* odometer over the outer loops */
            ii += stride[d];
            if (++idx[d] < shape[d]) {
                break;
            }
            ii -= stride[d] * shape[d];
            idx[d] = 0;
        }
    }
}
