/* gather: rows of an int8 tensor by constant indices (TFLM reference Gather). */
#ifndef ENN_GATHER_H
#define ENN_GATHER_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_copy.h"

typedef struct {
    int32_t batch;          /* product of the first batch_dims axes */
    int32_t outer;          /* product of the axes from batch_dims up to the gathered axis */
    int32_t axis_size;      /* extent of the gathered axis */
    int32_t coords;         /* indices per batch */
    int32_t inner;          /* product of the axes after the gathered axis */
    const int32_t *indices; /* batch * coords values in [0, axis_size) */
} enn_gather_params;

/* output must not overlap input. */
void enn_gather(const enn_gather_params *prm, const int8_t *input, int8_t *output);

#endif
