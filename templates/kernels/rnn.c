/* rnn: TFLM's integer LSTM primitives (edgenn_recurrent.h) for one Elman RNN step. Batch rows are
 * independent: every row runs its whole sequence in turn. */
#include "rnn.h"

#include "edgenn_recurrent.h"

void enn_rnn(const enn_rnn_params *prm, const int8_t *input, int8_t *hidden, int8_t *output, int16_t *scratch)
{
    const int32_t n = prm->hidden;
    int16_t *pre = scratch;
    int16_t *tmp = scratch + n;
    int32_t b;
    for (b = 0; b < prm->batch; b++) {
        int8_t *h = hidden + b * n;
        int32_t s;
        for (s = 0; s < prm->steps; s++) {
            const int32_t t = prm->reverse ? prm->steps - 1 - s : s;
            const int8_t *x = input + enn_rec_row(t, b, prm->steps, prm->batch, prm->time_major, prm->input_size);
            int8_t *y = output + enn_rec_row(t, b, prm->steps, prm->batch, prm->time_major, n);
            int32_t i;
            enn_rec_fc16(x, prm->input_size, prm->input_offset, prm->input_weights, n, prm->bias,
                         prm->input_multiplier, prm->input_shift, pre);
            enn_rec_fc16(h, n, prm->hidden_offset, prm->recurrent_weights, n, 0, prm->recurrent_multiplier,
                         prm->recurrent_shift, tmp);
            enn_rec_add16(pre, tmp, n);
            enn_rec_activate(pre, n, prm->sigmoid);
            for (i = 0; i < n; i++) {
                h[i] = (int8_t)enn_clamp(prm->hidden_zero_point + enn_mbqm(pre[i], prm->output_multiplier,
                                                                           (int)prm->output_shift), -128, 127);
                y[i] = h[i];
            }
        }
    }
}
