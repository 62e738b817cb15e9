/* rnn: an Elman RNN, h = f(x Wi + h Ri + b), in TFLM's integer LSTM arithmetic (edgenn's own), one
 * direction over a sequence; the hidden state is updated in place. */
#ifndef ENN_RNN_H
#define ENN_RNN_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t steps, batch, input_size, hidden;
    int32_t time_major; /* input (T, B, I) / output (T, B, H); else (B, T, I) / (B, T, H) */
    int32_t reverse;    /* steps from the last to the first */
    int32_t input_offset, hidden_offset, hidden_zero_point;
    const int8_t *input_weights;     /* (hidden, input_size) */
    const int8_t *recurrent_weights; /* (hidden, hidden) */
    const int32_t *bias;             /* (hidden), or NULL */
    int32_t input_multiplier, input_shift;         /* x . weights -> Q3.12 */
    int32_t recurrent_multiplier, recurrent_shift; /* h . weights -> Q3.12 */
    int32_t output_multiplier, output_shift;       /* f (Q0.15) -> hidden (int8) */
    int32_t sigmoid;                               /* f: sigmoid, else tanh */
} enn_rnn_params;

/* hidden: [batch][hidden] int8 (state, in place); scratch: 2 * hidden int16. */
void enn_rnn(const enn_rnn_params *prm, const int8_t *input, int8_t *hidden, int8_t *output, int16_t *scratch);

#endif
