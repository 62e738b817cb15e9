/* Numpy-style broadcasting of one-byte operands (int8 values or bools), shared by the elementwise
 * kernels (add, mul, sub, squared_difference, maximum_minimum, compare, prelu with two inputs,
 * select with three).
 *
 * The output is visited in order. Extent-1 output axes vanish and neighbouring axes along which
 * every input continues contiguously (or stays broadcast) fuse, so the innermost loop is as long
 * as possible: equal shapes, a scalar against a tensor or a per-channel constant all become a
 * single row. The caller's row function sees n elements with one stride per input (0 = broadcast,
 * 1 = contiguous). */
#ifndef EDGENN_BROADCAST_H
#define EDGENN_BROADCAST_H

#include "edgenn_prefix.h"

#include <stdint.h>

#define ENN_BCAST_MAX_DIMS 6
#define ENN_BCAST_MAX_INPUTS 3

/* n outputs from in[k] advancing by stride[k] elements. */
typedef void (*enn_bcast_rows_fn)(const void *ctx, int32_t n, const int8_t *const *in, const int32_t *stride,
                                  int8_t *out);

/* Two inputs: a and b advance by sa, sb. */
typedef void (*enn_bcast_row_fn)(const void *ctx, int32_t n, const int8_t *a, int32_t sa, const int8_t *b,
                                 int32_t sb, int8_t *out);

/* nin (1..ENN_BCAST_MAX_INPUTS) inputs; shapes right-aligned to ``dims`` (<= ENN_BCAST_MAX_DIMS)
 * axes with leading 1s, each input axis the output's or 1. */
static inline void enn_bcast_run_n(const int32_t *out_shape, const int32_t *const *in_shapes, int nin, int dims,
                                   const int8_t *const *inputs, int8_t *output, enn_bcast_rows_fn row,
                                   const void *ctx)
{
    int32_t shape[ENN_BCAST_MAX_DIMS];
    int32_t st[ENN_BCAST_MAX_DIMS][ENN_BCAST_MAX_INPUTS];
    int32_t idx[ENN_BCAST_MAX_DIMS];
    int32_t acc[ENN_BCAST_MAX_INPUTS];
    int32_t pos[ENN_BCAST_MAX_INPUTS];
    int32_t s[ENN_BCAST_MAX_INPUTS];
    const int8_t *p[ENN_BCAST_MAX_INPUTS];
    int32_t outer = 1;
    int32_t nd = 0;
    int32_t it;
    int d;
    int k;
    for (k = 0; k < nin; k++) {
        acc[k] = 1;
        pos[k] = 0;
    }
    for (d = dims - 1; d >= 0; d--) { /* from the innermost axis out */
        const int32_t n = out_shape[d];
        if (n != 1) {
            int fuse = nd > 0;
            for (k = 0; k < nin; k++) {
                s[k] = in_shapes[k][d] == 1 ? 0 : acc[k];
                fuse = fuse && s[k] == st[nd - 1][k] * shape[nd - 1];
            }
            if (fuse) {
                shape[nd - 1] *= n;
            } else {
                shape[nd] = n;
                for (k = 0; k < nin; k++) {
                    st[nd][k] = s[k];
                }
                nd++;
            }
        }
        for (k = 0; k < nin; k++) {
            acc[k] *= in_shapes[k][d];
        }
    }
    if (nd == 0) { /* a single element */
        shape[0] = 1;
        for (k = 0; k < nin; k++) {
            st[0][k] = 1;
        }
        nd = 1;
    }
    for (d = 1; d < nd; d++) {
        idx[d] = 0;
        outer *= shape[d];
    }
    for (it = 0; it < outer; it++) {
        for (k = 0; k < nin; k++) {
            p[k] = inputs[k] + pos[k];
        }
        row(ctx, shape[0], p, st[0], output);
        output += shape[0];
        for (d = 1; d < nd; d++) { /* odometer over the outer loops */
            for (k = 0; k < nin; k++) {
                pos[k] += st[d][k];
            }
            if (++idx[d] < shape[d]) {
                break;
            }
            for (k = 0; k < nin; k++) {
                pos[k] -= st[d][k] * shape[d];
            }
            idx[d] = 0;
        }
    }
}

typedef struct {
    enn_bcast_row_fn row;
    const void *ctx;
} enn_bcast_pair;

static inline void enn_bcast_pair_rows(const void *ctx, int32_t n, const int8_t *const *in, const int32_t *stride,
                                       int8_t *out)
{
    const enn_bcast_pair *c = (const enn_bcast_pair *)ctx;
    c->row(c->ctx, n, in[0], stride[0], in[1], stride[1], out);
}

/* Two inputs. */
static inline void enn_bcast_run(const int32_t *out_shape, const int32_t *in1_shape, const int32_t *in2_shape,
                                 int dims, const int8_t *input1, const int8_t *input2, int8_t *output,
                                 enn_bcast_row_fn row, const void *ctx)
{
    const int32_t *shapes[2];
    const int8_t *ins[2];
    enn_bcast_pair pair;
    shapes[0] = in1_shape;
    shapes[1] = in2_shape;
    ins[0] = input1;
    ins[1] = input2;
    pair.row = row;
    pair.ctx = ctx;
    enn_bcast_run_n(out_shape, shapes, 2, dims, ins, output, enn_bcast_pair_rows, &pair);
}

#endif /* EDGENN_BROADCAST_H */
