/* svdf: TFLM's EvalIntegerSvdfReference, bit for bit, one batch row at a time (rows are independent). */
#include "svdf.h"

#include "edgenn_fixedpoint.h"

static int32_t state_at(const enn_svdf_params *p, const void *state, int32_t i)
{
    return p->state_int8 ? (int32_t)((const int8_t *)state)[i] : (int32_t)((const int16_t *)state)[i];
}

static int32_t time_weight(const enn_svdf_params *p, const void *w, int32_t i)
{
    return p->state_int8 ? (int32_t)((const int8_t *)w)[i] : (int32_t)((const int16_t *)w)[i];
}

void enn_svdf(const enn_svdf_params *prm, const int8_t *input, const int8_t *weights_feature, const void *weights_time,
              const int32_t *bias, void *state, int8_t *output, int32_t *scratch)
{
    const int32_t filters = prm->filters;
    const int32_t memory = prm->memory;
    const int32_t units = filters / prm->rank;
    const int32_t lo = prm->state_int8 ? -128 : -32768;
    const int32_t hi = prm->state_int8 ? 127 : 32767;
    const int32_t total = prm->batch * filters * memory;
    int32_t i;
    int32_t b;
    /* Shift the whole state left by one (TFLM's flat shift; every filter's last column is rewritten). */
    for (i = 0; i + 1 < total; i++) {
        if (prm->state_int8) {
            ((int8_t *)state)[i] = ((const int8_t *)state)[i + 1];
        } else {
            ((int16_t *)state)[i] = ((const int16_t *)state)[i + 1];
        }
    }
    for (b = 0; b < prm->batch; b++) {
        const int8_t *x = input + b * prm->input_size;
        const int32_t base = b * filters * memory;
        int32_t f;
        for (f = 0; f < filters; f++) {
            const int8_t *row = weights_feature + f * prm->input_size;
            int32_t acc = 0;
            int32_t c;
            int32_t v;
            for (c = 0; c < prm->input_size; c++) {
                acc += (int32_t)row[c] * ((int32_t)x[c] - prm->input_zero_point);
            }
            v = enn_clamp(enn_mbqm(acc, prm->scale1_multiplier, (int)prm->scale1_shift), lo, hi) +
                prm->state_zero_point;
            if (prm->state_int8) {
                ((int8_t *)state)[base + f * memory + memory - 1] = (int8_t)v;
            } else {
                ((int16_t *)state)[base + f * memory + memory - 1] = (int16_t)v;
            }
        }
        for (f = 0; f < filters; f++) {
            int32_t acc = 0;
            int32_t j;
            for (j = 0; j < memory; j++) {
                acc += time_weight(prm, weights_time, f * memory + j) *
                       (state_at(prm, state, base + f * memory + j) - prm->state_zero_point);
            }
            scratch[f] = acc;
        }
        for (i = 0; i < units; i++) {
            int32_t acc = bias != 0 ? bias[i] : 0;
            int32_t r;
            for (r = 0; r < prm->rank; r++) {
                acc += scratch[i * prm->rank + r];
            }
            output[b * units + i] = (int8_t)enn_clamp(
                enn_mbqm(acc, prm->scale2_multiplier, (int)prm->scale2_shift) + prm->output_zero_point, -128, 127);
        }
    }
}
