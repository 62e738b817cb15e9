/* batch_matmul: int8 batched matrix product, bit-exact with TFLM's reference BatchMatMul<int8_t, int32_t>.
 *
 * Like TFLM, operands whose depth axis is not contiguous (rhs without adj_y, lhs with adj_x) are
 * first transposed into the scratch region, once per distinct batch matrix, so that every output
 * is a dot product of two contiguous rows. The int32 sum is exact, so it is rearranged as
 * sum (a + oa) (b + ob) = sum (a + oa) b + ob (sum a + K oa): enn_dot4 (DSP extension, Helium or
 * portable C) serves four output columns per pass over a row of lhs. */
#include "batch_matmul.h"

#include "edgenn_simd.h"

/* dst (cols, rows) = src (rows, cols) transposed. */
static void transpose_into(int8_t *dst, const int8_t *src, int32_t rows, int32_t cols)
{
    int32_t r, c;
    for (c = 0; c < cols; c++) {
        for (r = 0; r < rows; r++) {
            *dst++ = src[r * cols + c];
        }
    }
}

static int8_t bmm_out(int32_t acc, int32_t mult, int shift, int32_t zp)
{
    return enn_sat8(enn_mbqm(acc, mult, shift) + zp);
}

void enn_batch_matmul(const enn_batch_matmul_params *prm, const int8_t *lhs, const int8_t *rhs, int8_t *output,
                      int8_t *scratch)
{
    const int32_t m = prm->rows, n = prm->cols, k = prm->depth;
    const int32_t oa = prm->lhs_offset, ob = prm->rhs_offset;
    const int32_t zp = prm->output.offset, mult = prm->output.multiplier;
    const int shift = (int)prm->output.shift;
    int8_t *rhs_t = scratch;                                  /* (N, K) when !adj_y */
    int8_t *lhs_t = scratch + (prm->adj_y ? 0 : n * k);       /* (M, K) when adj_x */
    const int8_t *last_a = 0, *last_b = 0;
    int32_t b0, b1, b2, i, j;
    int8_t *out = output;
    for (b0 = 0; b0 < prm->batch[0]; b0++) {
        for (b1 = 0; b1 < prm->batch[1]; b1++) {
            for (b2 = 0; b2 < prm->batch[2]; b2++) {
                const int8_t *a = lhs + b0 * prm->lhs_stride[0] + b1 * prm->lhs_stride[1] + b2 * prm->lhs_stride[2];
                const int8_t *b = rhs + b0 * prm->rhs_stride[0] + b1 * prm->rhs_stride[1] + b2 * prm->rhs_stride[2];
                if (prm->adj_x) {
                    if (a != last_a) {
                        transpose_into(lhs_t, a, k, m);
                        last_a = a;
                    }
                    a = lhs_t;
                }
                if (!prm->adj_y) {
                    if (b != last_b) {
                        transpose_into(rhs_t, b, k, n);
                        last_b = b;
                    }
                    b = rhs_t;
                }
                for (i = 0; i < m; i++) {
                    const int8_t *ar = a + i * k;
                    uint32_t rowsum = (uint32_t)k * (uint32_t)oa; /* sum (a + oa) over the row */
                    uint32_t corr;
                    int32_t t;
                    for (t = 0; t < k; t++) {
                        rowsum += (uint32_t)(int32_t)ar[t];
                    }
                    corr = (uint32_t)ob * rowsum;
                    for (j = 0; j + 4 <= n; j += 4) {
                        int32_t a0 = (int32_t)corr, a1 = (int32_t)corr, a2 = (int32_t)corr, a3 = (int32_t)corr;
                        enn_dot4(ar, b + j * k, k, k, oa, &a0, &a1, &a2, &a3);
                        out[0] = bmm_out(a0, mult, shift, zp);
                        out[1] = bmm_out(a1, mult, shift, zp);
                        out[2] = bmm_out(a2, mult, shift, zp);
                        out[3] = bmm_out(a3, mult, shift, zp);
                        out += 4;
                    }
                    for (; j < n; j++) {
                        *out++ = bmm_out((int32_t)(corr + enn_dot1(ar, b + j * k, k, oa)), mult, shift, zp);
                    }
                }
            }
        }
    }
}
