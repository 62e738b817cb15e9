/* lstm: TFLM's integer LSTM step (lstm_eval.h LstmStep), bit for bit. Batch rows are independent,
 * so every row runs its whole sequence in turn (TFLM's order for a batch-major input; the same bytes
 * for a time-major one). */
#include "lstm.h"

#include "edgenn_recurrent.h"

/* dst = activation(FC(x) + FC(h)) of gate k; tmp: hidden int16. */
static void gate(const enn_lstm_params *p, int32_t k, const int8_t *x, const int8_t *h, int32_t activation_sigmoid,
                 int16_t *dst, int16_t *tmp)
{
    enn_rec_fc16(x, p->input_size, p->input_offset, p->input_weights[k], p->hidden, p->bias[k],
                 p->input_multiplier[k], p->input_shift[k], dst);
    enn_rec_fc16(h, p->hidden, p->hidden_offset, p->recurrent_weights[k], p->hidden, 0, p->recurrent_multiplier[k],
                 p->recurrent_shift[k], tmp);
    enn_rec_add16(dst, tmp, p->hidden);
    enn_rec_activate(dst, p->hidden, activation_sigmoid);
}

void enn_lstm(const enn_lstm_params *prm, const int8_t *input, int8_t *hidden, int16_t *cell, int8_t *output,
              int16_t *scratch)
{
    const int32_t n = prm->hidden;
    int16_t *g_forget = scratch;
    int16_t *g_input = scratch + n;
    int16_t *g_cell = scratch + 2 * n;
    int16_t *tmp = scratch + 3 * n;
    int32_t tanh_m;
    int32_t tanh_s;
    int32_t b;
    enn_rec_tanh_params(prm->cell_scale_power, &tanh_m, &tanh_s);
    for (b = 0; b < prm->batch; b++) {
        int8_t *h = hidden + b * n;
        int16_t *c = cell + b * n;
        int32_t s;
        for (s = 0; s < prm->steps; s++) {
            const int32_t t = prm->reverse ? prm->steps - 1 - s : s;
            const int8_t *x = input + enn_rec_row(t, b, prm->steps, prm->batch, prm->time_major, prm->input_size);
            int8_t *y = output + enn_rec_row(t, b, prm->steps, prm->batch, prm->time_major, n);
            int32_t i;
            gate(prm, 1, x, h, 1, g_forget, tmp);
            gate(prm, 0, x, h, 1, g_input, tmp);
            gate(prm, 2, x, h, prm->cell_gate_sigmoid, g_cell, tmp);
            enn_rec_mul16(g_forget, c, n, prm->forget_cell_multiplier, prm->forget_cell_shift, c);
            enn_rec_mul16(g_input, g_cell, n, prm->input_cell_multiplier, prm->input_cell_shift, g_input);
            enn_rec_add16(c, g_input, n);
            if (prm->has_cell_clip) {
                for (i = 0; i < n; i++) {
                    c[i] = (int16_t)enn_clamp(c[i], -prm->cell_clip, prm->cell_clip);
                }
            }
            gate(prm, 3, x, h, 1, g_input, tmp); /* the output gate, still from the previous hidden state */
            for (i = 0; i < n; i++) {
                const int32_t th = enn_rec_tanh(c[i], tanh_m, tanh_s);
                h[i] = (int8_t)enn_rec_mul(th, g_input[i], prm->output_multiplier, prm->output_shift,
                                           prm->hidden_zero_point, -128, 127);
            }
            for (i = 0; i < n; i++) {
                y[i] = h[i];
            }
        }
    }
}
