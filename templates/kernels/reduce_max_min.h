/* reduce_max_min: the largest / smallest int8 value over a set of axes (TFLM REDUCE_MAX / REDUCE_MIN;
 * on bool bytes the minimum is REDUCE_ALL). */
#ifndef ENN_REDUCE_MAX_MIN_H
#define ENN_REDUCE_MAX_MIN_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t rank;
    int32_t dims[8];      /* input shape (ENN_REDUCE_MAX_RANK axes at most) */
    uint32_t reduce_mask; /* bit i set: axis i is reduced */
    int32_t is_max;       /* 0: minimum */
} enn_reduce_max_min_params;

/* Output elements are in input order with the reduced axes removed. */
void enn_reduce_max_min(const enn_reduce_max_min_params *prm, const int8_t *input, int8_t *output);

#endif
