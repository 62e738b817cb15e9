/* select: output = condition ? x : y, the three inputs broadcast (TFLM SELECT_V2). */
#include "select.h"

#include "edgenn_broadcast.h"

static void select_rows(const void *ctx, int32_t n, const int8_t *const *in, const int32_t *stride, int8_t *o)
{
    const int8_t *c = in[0];
    const int8_t *x = in[1];
    const int8_t *y = in[2];
    const int32_t sc = stride[0];
    const int32_t sx = stride[1];
    const int32_t sy = stride[2];
    int32_t i;
    (void)ctx;
    for (i = 0; i < n; i++) {
        o[i] = c[i * sc] != 0 ? x[i * sx] : y[i * sy];
    }
}

void enn_select(const enn_select_params *prm, const uint8_t *condition, const int8_t *x, const int8_t *y,
                int8_t *output)
{
    const int32_t *shapes[3];
    const int8_t *ins[3];
    shapes[0] = prm->condition_shape;
    shapes[1] = prm->x_shape;
    shapes[2] = prm->y_shape;
    ins[0] = (const int8_t *)condition;
    ins[1] = x;
    ins[2] = y;
    enn_bcast_run_n(prm->out_shape, shapes, 3, ENN_SELECT_MAX_DIMS, ins, output, select_rows, 0);
}
