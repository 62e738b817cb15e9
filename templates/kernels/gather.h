/* gather: rows of an int8 tensor by constant indices or by int32 indices read at run time (TFLM
 * reference Gather; run-time indices: negative ones count from the end, the rest are clamped). */
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
    const int32_t *indices; /* batch * coords values in [0, axis_size), or NULL: the indices argument */
} enn_gather_params;

/* indices: NULL (the constant prm->indices) or batch * coords int32 values read at run time.
 * output must not overlap input. */
void enn_gather(const enn_gather_params *prm, const int8_t *input, const int32_t *indices, int8_t *output);

#endif
