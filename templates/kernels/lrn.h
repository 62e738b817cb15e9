/* lrn: local response normalization across channels, edgenn's integer form (converter/ops/lrn.py):
 * y = offset + MBQM(SRDHM(v << 22, T(S)), multiplier, shift), v = x - zero point, S the sum of v^2
 * over the channel window, T from a per-layer Q31 table. */
#ifndef ENN_LRN_H
#define ENN_LRN_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t pixels;       /* product of all extents but the last */
    int32_t channels;     /* extent of the last axis */
    int32_t before;       /* window: channels c - before .. c + after */
    int32_t after;
    int32_t input_offset; /* -input zero point */
    enn_quant output;     /* offset: zero point; multiplier, shift (<= 0) */
} enn_lrn_params;

/* table: T(S) for S < 64, then 64 entries per octave of S (see lrn.c); output must not overlap input. */
void enn_lrn(const enn_lrn_params *prm, const int8_t *input, const int32_t *table, int8_t *output);

#endif
