/* Numpy-style broadcasting of two int8 operands, shared by the elementwise kernels (add, mul).
 *
 * The output is visited in order. Extent-1 output axes vanish and neighbouring axes along which
 * both inputs continue contiguously (or both stay broadcast) fuse, so the innermost loop is as
 * long as possible: equal shapes, a scalar against a tensor or a per-channel constant all become a
 * single row. The caller's row function sees n elements with input strides sa, sb (0 = broadcast). */
#ifndef EDGENN_BROADCAST_H
#define EDGENN_BROADCAST_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_BCAST_MAX_DIMS 6

typedef void (*enn_bcast_row_fn)(const void *ctx, int32_t n, const int8_t *a, int32_t sa, const int8_t *b,
                                 int32_t sb, int8_t *out);

/* Shapes are right-aligned to ``dims`` (<= ENN_BCAST_MAX_DIMS) axes with leading 1s. */
static inline void enn_bcast_run(const int32_t *out_shape, const int32_t *in1_shape, const int32_t *in2_shape,
                                 int dims, const int8_t *input1, const int8_t *input2, int8_t *output,
                                 enn_bcast_row_fn row, const void *ctx)
{
    int32_t shape[ENN_BCAST_MAX_DIMS];
    int32_t sa[ENN_BCAST_MAX_DIMS];
    int32_t sb[ENN_BCAST_MAX_DIMS];
    int32_t idx[ENN_BCAST_MAX_DIMS];
    int32_t acc_a = 1;
    int32_t acc_b = 1;
    int32_t outer = 1;
    int32_t nd = 0;
    int32_t ia = 0;
    int32_t ib = 0;
    int32_t it;
    int d;
    for (d = dims - 1; d >= 0; d--) { /* from the innermost axis out */
        const int32_t n = out_shape[d];
        if (n != 1) {
            const int32_t a = in1_shape[d] == 1 ? 0 : acc_a;
            const int32_t b = in2_shape[d] == 1 ? 0 : acc_b;
            if (nd > 0 && a == sa[nd - 1] * shape[nd - 1] && b == sb[nd - 1] * shape[nd - 1]) {
                shape[nd - 1] *= n;
            } else {
                shape[nd] = n;
                sa[nd] = a;
                sb[nd] = b;
                nd++;
            }
        }
        acc_a *= in1_shape[d];
        acc_b *= in2_shape[d];
    }
    if (nd == 0) { /* a single element */
        shape[0] = 1;
        sa[0] = 1;
        sb[0] = 1;
        nd = 1;
    }
    if (nd == 1) {
        row(ctx, shape[0], input1, sa[0], input2, sb[0], output);
        return;
    }
    for (d = 1; d < nd; d++) {
        idx[d] = 0;
        outer *= shape[d];
    }
    for (it = 0; it < outer; it++) {
        row(ctx, shape[0], input1 + ia, sa[0], input2 + ib, sb[0], output);
        output += shape[0];
        for (d = 1; d < nd; d++) { /* odometer over the outer loops */
            ia += sa[d];
            ib += sb[d];
            if (++idx[d] < shape[d]) {
                break;
            }
            ia -= sa[d] * shape[d];
            ib -= sb[d] * shape[d];
            idx[d] = 0;
        }
    }
}

#endif /* EDGENN_BROADCAST_H */
