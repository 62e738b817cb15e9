/* fully_connected: int8 dense layer, per-tensor or per-channel requantization (TFLM semantics). */
#ifndef ENN_FULLY_CONNECTED_H
#define ENN_FULLY_CONNECTED_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t batches;      /* rows of the input */
    int32_t accum_depth;  /* inputs per row */
    int32_t output_depth; /* units */
    int32_t input_offset;
    int32_t filter_offset;
    int32_t output_offset;
    enn_act act;
    int32_t per_channel;  /* 1: one multiplier/shift per unit; 0: a single one */
    enn_pc_quant quant;   /* multiplier, shift ([output_depth] or [1]); rshift unused (NULL) */
    const int32_t *ksum;  /* [output_depth] sum of each unit's filter (Helium builds), or NULL */
#if defined(__aarch64__)
    const int32_t *mq;    /* per eight units: folded biases, multipliers, shifts (AArch64 NEON,
                           * edgenn_neon.h enn_fc8_neon; codegen/neon.py), or NULL */
    const int8_t *wp;     /* the filter packed per eight units (AArch64 NEON), or NULL; both left
                           * out of the initializer where the generator made none */
#endif
    const uint32_t *wx;   /* the filter as int16 pairs, four units interleaved (DSP builds for speed,
                           * fully_connected.c fc_dot4_wx), or NULL */
    int32_t no_min;       /* 1: no weight of the filter is -128 (NEON: two products fit an int16) */
} enn_fully_connected_params;

/* input: [batches][accum_depth]; filter: [output_depth][accum_depth]; bias: [output_depth] or NULL;
 * output: [batches][output_depth]. */
void enn_fully_connected(const enn_fully_connected_params *prm, const int8_t *input, const int8_t *filter,
                         const int32_t *bias, int8_t *output);

#endif
