/* lstm: TFLM's integer UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int16 gates and
 * cell state), one direction over a sequence; the hidden and cell state are updated in place. */
#ifndef ENN_LSTM_H
#define ENN_LSTM_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t steps, batch, input_size, hidden;
    int32_t time_major; /* input (T, B, I) / output (T, B, H); else (B, T, I) / (B, T, H) */
    int32_t reverse;    /* steps from the last to the first */
    int32_t input_offset, hidden_offset, hidden_zero_point;
    const int8_t *input_weights[4];     /* gates i f c o: (hidden, input_size) */
    const int8_t *recurrent_weights[4]; /* (hidden, hidden) */
    const int32_t *bias[4];             /* (hidden) */
    const int32_t *input_multiplier, *input_shift;         /* [4]: x . weights -> Q3.12 */
    const int32_t *recurrent_multiplier, *recurrent_shift; /* [4]: h . weights -> Q3.12 */
    int32_t forget_cell_multiplier, forget_cell_shift; /* forget x cell -> cell */
    int32_t input_cell_multiplier, input_cell_shift;   /* input x cell gate -> cell */
    int32_t output_multiplier, output_shift;           /* output gate x tanh(cell) -> hidden (int8) */
    int32_t has_cell_clip, cell_clip;
    int32_t cell_scale_power; /* cell scale = 2^cell_scale_power */
    int32_t cell_gate_sigmoid;
} enn_lstm_params;

/* hidden: [batch][hidden] int8, cell: [batch][hidden] int16 (state, in place); scratch: 4 * hidden int16. */
void enn_lstm(const enn_lstm_params *prm, const int8_t *input, int8_t *hidden, int16_t *cell, int8_t *output,
              int16_t *scratch);

#endif
