/* compare: int8 comparisons with broadcasting (TFLM reference arithmetic, bit for bit): both inputs
 * rescaled, ((x + offset) << left_shift) * multiplier, then compared as int32. */
#include "compare.h"

#include "edgenn_arith.h"

static int32_t compare_holds(int32_t kind, int32_t a, int32_t b)
{
    switch (kind) {
    case ENN_COMPARE_EQUAL:
        return a == b;
    case ENN_COMPARE_NOT_EQUAL:
        return a != b;
    case ENN_COMPARE_LESS:
        return a < b;
    case ENN_COMPARE_LESS_EQUAL:
        return a <= b;
    case ENN_COMPARE_GREATER:
        return a > b;
    default:
        return a >= b;
    }
}

static void compare_rows(const void *ctx, int32_t n, const int8_t *a, int32_t sa, const int8_t *b, int32_t sb,
                         int8_t *o)
{
    const enn_compare_params *p = (const enn_compare_params *)ctx;
    const int32_t kind = p->kind;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t x = enn_arith_scale(a[i * sa], &p->input1, p->left_shift);
        const int32_t y = enn_arith_scale(b[i * sb], &p->input2, p->left_shift);
        o[i] = (int8_t)compare_holds(kind, x, y);
    }
}

void enn_compare(const enn_compare_params *prm, const int8_t *input1, const int8_t *input2, uint8_t *output)
{
    enn_bcast_run(prm->out_shape, prm->in1_shape, prm->in2_shape, ENN_COMPARE_MAX_DIMS, input1, input2,
                  (int8_t *)output, compare_rows, prm);
}
