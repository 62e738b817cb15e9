/* prelu: int8 parametric ReLU (TFLM reference arithmetic, bit for bit). With x = input - zero point:
 * x >= 0 gives requant(x, multiplier 1), else requant(x * (alpha - alpha zero point), multiplier 2);
 * plus the output zero point, saturated. */
#include "prelu.h"

#include "edgenn_broadcast.h"
#include "edgenn_fixedpoint.h"

static void prelu_rows(const void *ctx, int32_t n, const int8_t *a, int32_t sa, const int8_t *b, int32_t sb,
                       int8_t *o)
{
    const enn_prelu_params *p = (const enn_prelu_params *)ctx;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t x = (int32_t)a[i * sa] + p->input_offset;
        int32_t y;
        if (x >= 0) {
            y = enn_mbqm(x, p->identity_multiplier, (int)p->identity_shift);
        } else {
            y = enn_mbqm(x * ((int32_t)b[i * sb] + p->alpha_offset), p->alpha_multiplier, (int)p->alpha_shift);
        }
        o[i] = (int8_t)enn_clamp(y + p->output_offset, -128, 127);
    }
}

void enn_prelu(const enn_prelu_params *prm, const int8_t *input, const int8_t *alpha, int8_t *output)
{
    enn_bcast_run(prm->out_shape, prm->in_shape, prm->alpha_shape, ENN_PRELU_MAX_DIMS, input, alpha, output,
                  prelu_rows, prm);
}
