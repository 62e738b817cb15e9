/* arg_min_max: index of the largest / smallest int8 value along one axis (TFLM ARG_MAX / ARG_MIN,
 * ONNX ArgMax / ArgMin with select_last_index). */
#ifndef ENN_ARG_MIN_MAX_H
#define ENN_ARG_MIN_MAX_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t outer;       /* product of the extents before the axis */
    int32_t axis_size;   /* extent of the reduced axis */
    int32_t inner;       /* product of the extents after the axis */
    int32_t is_arg_max;  /* 0: the smallest value */
    int32_t select_last; /* ties: 0 the first index (TFLM, ONNX default), 1 the last */
    int32_t index_bytes; /* 4: int32 output, 8: int64 (little- or big-endian as the target) */
} enn_arg_min_max_params;

/* output: outer * inner indices of index_bytes each, in input order without the axis; the bytes
 * need no more than one-byte alignment. */
void enn_arg_min_max(const enn_arg_min_max_params *prm, const int8_t *input, void *output);

#endif
