/* gru: TFLM's integer LSTM primitives (edgenn_recurrent.h) composed into a GRU step. Batch rows are
 * independent: every row runs its whole sequence in turn. */
#include "gru.h"

#include "edgenn_recurrent.h"

/* dst = FC(x) of gate k (+ its bias). */
static void input_fc(const enn_gru_params *p, int32_t k, const int8_t *x, int16_t *dst)
{
    enn_rec_fc16(x, p->input_size, p->input_offset, p->input_weights[k], p->hidden, p->bias[k], p->input_multiplier[k],
                 p->input_shift[k], dst);
}

static void recurrent_fc(const enn_gru_params *p, int32_t k, const int8_t *h, const int32_t *bias, int16_t *dst)
{
    enn_rec_fc16(h, p->hidden, p->hidden_offset, p->recurrent_weights[k], p->hidden, bias,
                 p->recurrent_multiplier[k], p->recurrent_shift[k], dst);
}

void enn_gru(const enn_gru_params *prm, const int8_t *input, int8_t *hidden, int8_t *output, int16_t *scratch)
{
    const int32_t n = prm->hidden;
    const int32_t zp = prm->hidden_zero_point;
    int16_t *z = scratch;
    int16_t *r = scratch + n;
    int16_t *cand = scratch + 2 * n;
    int16_t *tmp = scratch + 3 * n;
    int8_t *rh = (int8_t *)(scratch + 4 * n);
    int32_t b;
    for (b = 0; b < prm->batch; b++) {
        int8_t *h = hidden + b * n;
        int32_t s;
        for (s = 0; s < prm->steps; s++) {
            const int32_t t = prm->reverse ? prm->steps - 1 - s : s;
            const int8_t *x = input + enn_rec_row(t, b, prm->steps, prm->batch, prm->time_major, prm->input_size);
            int8_t *y = output + enn_rec_row(t, b, prm->steps, prm->batch, prm->time_major, n);
            int32_t i;
            input_fc(prm, 0, x, z);
            recurrent_fc(prm, 0, h, 0, tmp);
            enn_rec_add16(z, tmp, n);
            enn_rec_activate(z, n, 1);
            input_fc(prm, 1, x, r);
            recurrent_fc(prm, 1, h, 0, tmp);
            enn_rec_add16(r, tmp, n);
            enn_rec_activate(r, n, 1);
            input_fc(prm, 2, x, cand);
            if (prm->linear_before_reset) {
                recurrent_fc(prm, 2, h, prm->recurrent_bias, tmp);
                enn_rec_mul16(r, tmp, n, prm->reset_multiplier, prm->reset_shift, tmp);
            } else {
                for (i = 0; i < n; i++) {
                    rh[i] = (int8_t)enn_rec_mul(r[i], (int32_t)h[i] - zp, prm->reset_multiplier, prm->reset_shift, zp,
                                                -128, 127);
                }
                recurrent_fc(prm, 2, rh, 0, tmp);
            }
            enn_rec_add16(cand, tmp, n);
            enn_rec_activate(cand, n, 0);
            for (i = 0; i < n; i++) {
                const int32_t upd = enn_mbqm((32768 - (int32_t)z[i]) * (int32_t)cand[i], prm->update_multiplier,
                                             (int)prm->update_shift);
                const int32_t total = (int32_t)z[i] * ((int32_t)h[i] - zp) + upd;
                h[i] = (int8_t)enn_clamp(zp + enn_rdbp(total, 15), -128, 127);
                y[i] = h[i];
            }
        }
    }
}
