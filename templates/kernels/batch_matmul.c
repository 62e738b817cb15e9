/* batch_matmul: int8 batched matrix product (TFLM reference BatchMatMul<int8_t, int32_t>, bit for bit).
 * The int32 sum of (lhs + lhs_offset) * (rhs + rhs_offset) is exact, so it is taken in whatever order
 * the operand layouts favour: with both depth axes contiguous (adj_y, the attention score Q K^T) the
 * products are summed along rows; otherwise through the strides. */
#include "batch_matmul.h"

#include "edgenn_fixedpoint.h"

static int32_t dot_strided(const int8_t *a, int32_t sa, const int8_t *b, int32_t sb, int32_t k,
                           int32_t oa, int32_t ob)
{
    int32_t acc = 0;
    int32_t t;
    for (t = 0; t < k; t++) {
        acc += ((int32_t)a[t * sa] + oa) * ((int32_t)b[t * sb] + ob);
    }
    return acc;
}

void enn_batch_matmul(const enn_batch_matmul_params *prm, const int8_t *lhs, const int8_t *rhs, int8_t *output)
{
    const int32_t m = prm->rows, n = prm->cols, k = prm->depth;
    const int32_t oa = prm->lhs_offset, ob = prm->rhs_offset;
    const int32_t zp = prm->output.offset, mult = prm->output.multiplier;
    const int shift = (int)prm->output.shift;
    /* element steps along a row (i / j) and along the depth (k) of each operand */
    const int32_t a_row = prm->adj_x ? 1 : k, a_dep = prm->adj_x ? m : 1;
    const int32_t b_col = prm->adj_y ? k : 1, b_dep = prm->adj_y ? 1 : n;
    int32_t b0, b1, b2, i, j;
    int8_t *out = output;
    for (b0 = 0; b0 < prm->batch[0]; b0++) {
        for (b1 = 0; b1 < prm->batch[1]; b1++) {
            for (b2 = 0; b2 < prm->batch[2]; b2++) {
                const int8_t *a = lhs + b0 * prm->lhs_stride[0] + b1 * prm->lhs_stride[1] + b2 * prm->lhs_stride[2];
                const int8_t *b = rhs + b0 * prm->rhs_stride[0] + b1 * prm->rhs_stride[1] + b2 * prm->rhs_stride[2];
                for (i = 0; i < m; i++) {
                    const int8_t *ar = a + i * a_row;
                    for (j = 0; j < n; j++) {
                        const int32_t acc = dot_strided(ar, a_dep, b + j * b_col, b_dep, k, oa, ob);
                        *out++ = (int8_t)enn_clamp(enn_mbqm(acc, mult, shift) + zp, -128, 127);
                    }
                }
            }
        }
    }
}
