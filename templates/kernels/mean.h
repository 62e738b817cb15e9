/* mean: int8 mean over any set of axes (TFLM reference_ops::QuantizedMeanOrSum semantics). */
#ifndef ENN_MEAN_H
#define ENN_MEAN_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

#define ENN_MEAN_MAX_RANK 8 /* = ENN_REDUCE_MAX_RANK */

typedef struct {
    int32_t rank;
    int32_t dims[ENN_MEAN_MAX_RANK]; /* input shape */
    uint32_t reduce_mask;            /* bit i set: axis i is averaged */
    int32_t input_offset;            /* -input zero point */
    enn_quant output; /* offset: zero point; input_scale / output_scale / count, folded as TFLM does at run time */
} enn_mean_params;

/* Output elements are in input order with the reduced axes removed. */
void enn_mean(const enn_mean_params *prm, const int8_t *input, int8_t *output);

#endif
