/* split: cut an int8 tensor along one axis into consecutive pieces (TFLM Split / SplitV / Unpack). */
#ifndef ENN_SPLIT_H
#define ENN_SPLIT_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_copy.h"

typedef struct {
    int32_t outer;          /* product of the input axes before the split axis */
    int32_t num_outputs;
    const int32_t *chunk;   /* per output: its extent along the axis times the inner size */
} enn_split_params;

/* outputs: num_outputs pointers. An output must not overlap the input, except when it is exactly
 * its range of the input (outer == 1: then nothing is copied for it). */
void enn_split(const enn_split_params *prm, const int8_t *input, int8_t *const *outputs);

#endif
