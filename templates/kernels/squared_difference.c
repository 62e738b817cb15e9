/* squared_difference: int8 (x1 - x2)^2 with broadcasting (TFLM reference arithmetic, bit for bit).
 * Both inputs are rescaled as for ADD (left shift 7), subtracted; the square (below 2^31: each
 * rescaled input is below 2^15 in magnitude) is requantized. */
#include "squared_difference.h"

static void sqdiff_rows(const void *ctx, int32_t n, const int8_t *a, int32_t sa, const int8_t *b, int32_t sb,
                        int8_t *o)
{
    const enn_squared_difference_params *p = (const enn_squared_difference_params *)ctx;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t d = enn_arith_scale(a[i * sa], &p->input1, p->left_shift) -
                          enn_arith_scale(b[i * sb], &p->input2, p->left_shift);
        o[i] = enn_arith_out(p, d * d);
    }
}

void enn_squared_difference(const enn_squared_difference_params *prm, const int8_t *input1, const int8_t *input2,
                            int8_t *output)
{
    enn_bcast_run(prm->out_shape, prm->in1_shape, prm->in2_shape, ENN_ARITH_MAX_DIMS, input1, input2, output,
                  sqdiff_rows, prm);
}
