/* fully_connected: int8 dense layer, per-tensor or per-channel requantization (TFLM semantics). */
#ifndef {{ kp|upper }}FULLY_CONNECTED_H
#define {{ kp|upper }}FULLY_CONNECTED_H

#include <stdint.h>

typedef struct {
    int32_t batches;      /* rows of the input */
    int32_t accum_depth;  /* inputs per row */
    int32_t output_depth; /* units */
    int32_t input_offset;
    int32_t filter_offset;
    int32_t output_offset;
    int32_t act_min;
    int32_t act_max;
    int32_t per_channel; /* 1: one multiplier/shift per unit; 0: a single one */
    const int32_t *multiplier;
    const int32_t *shift;
    const int32_t *ksum; /* [output_depth] sum of each unit's filter (Helium builds), or NULL */
} {{ kp }}fully_connected_params;

/* filter: [output_depth][accum_depth]; bias: [output_depth] or NULL. */
void {{ kp }}fully_connected(const {{ kp }}fully_connected_params *prm, const int8_t *input, const int8_t *filter,
                             const int32_t *bias, int8_t *output);

#endif
