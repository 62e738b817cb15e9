/* maximum_minimum: the larger or smaller raw int8 value of two broadcast inputs (TFLM MAXIMUM / MINIMUM). */
#include "maximum_minimum.h"

#include "edgenn_broadcast.h"

static void extremum_rows(const void *ctx, int32_t n, const int8_t *a, int32_t sa, const int8_t *b, int32_t sb,
                          int8_t *o)
{
    const int32_t larger = ((const enn_maximum_minimum_params *)ctx)->is_maximum != 0;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int8_t x = a[i * sa];
        const int8_t y = b[i * sb];
        o[i] = (x > y) == larger ? x : y; /* maximum: x if x > y; minimum: x if x <= y (the same value when equal) */
    }
}

void enn_maximum_minimum(const enn_maximum_minimum_params *prm, const int8_t *input1, const int8_t *input2,
                         int8_t *output)
{
    enn_bcast_run(prm->out_shape, prm->in1_shape, prm->in2_shape, ENN_MAXIMUM_MINIMUM_MAX_DIMS, input1, input2, output,
                  extremum_rows, prm);
}
