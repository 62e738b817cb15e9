/* gru: a GRU in TFLM's integer LSTM arithmetic (edgenn's own formulation, runtime_py/kernels/gru.py),
 * one direction over a sequence; the hidden state is updated in place. */
#ifndef ENN_GRU_H
#define ENN_GRU_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t steps, batch, input_size, hidden;
    int32_t time_major; /* input (T, B, I) / output (T, B, H); else (B, T, I) / (B, T, H) */
    int32_t reverse;    /* steps from the last to the first */
    int32_t linear_before_reset;
    int32_t input_offset, hidden_offset, hidden_zero_point;
    const int8_t *input_weights[3];     /* gates z r h: (hidden, input_size) */
    const int8_t *recurrent_weights[3]; /* (hidden, hidden) */
    const int32_t *bias[3];             /* (hidden), or NULL */
    const int32_t *recurrent_bias;      /* of gate h with linear_before_reset, or NULL */
    const int32_t *input_multiplier, *input_shift;         /* [3]: x . weights -> Q3.12 */
    const int32_t *recurrent_multiplier, *recurrent_shift; /* [3]: h . weights -> Q3.12 */
    int32_t reset_multiplier, reset_shift;   /* r x (h Rh + Rbh) -> Q3.12, or r x (h - zp) -> hidden */
    int32_t update_multiplier, update_shift; /* (2^15 - z) h~ -> hidden / 2^15 */
} enn_gru_params;

/* hidden: [batch][hidden] int8 (state, in place); scratch: 4 * hidden int16, then hidden int8. */
void enn_gru(const enn_gru_params *prm, const int8_t *input, int8_t *hidden, int8_t *output, int16_t *scratch);

#endif
