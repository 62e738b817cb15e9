/* mul: int8 elementwise multiplication with broadcasting (TFLM reference arithmetic, bit for bit).
 * Broadcasting visits the output in order; axes are merged where both inputs continue
 * contiguously (or both stay broadcast), so the inner loop is as long as possible. */
#include "mul.h"

#include "edgenn_broadcast.h"
#include "edgenn_fixedpoint.h"

static inline int8_t mul_out(const enn_mul_params *p, int32_t a, int32_t b)
{
    const int32_t y = enn_mbqm(a * b, p->output.multiplier, (int)p->output.shift) + p->output.offset;
    return (int8_t)enn_clamp(y, p->act.min, p->act.max);
}

/* n outputs; a and b advance by sa, sb (0 = broadcast, 1 = contiguous). */
static void mul_row(const enn_mul_params *p, int32_t n, const int8_t *a, int32_t sa, const int8_t *b, int32_t sb,
                    int8_t *o)
{
    int32_t i;
    if (sa == 0) {
        const int32_t va = (int32_t)a[0] + p->input1_offset;
        for (i = 0; i < n; i++) {
            o[i] = mul_out(p, va, (int32_t)b[i * sb] + p->input2_offset);
        }
    } else if (sb == 0) {
        const int32_t vb = (int32_t)b[0] + p->input2_offset;
        for (i = 0; i < n; i++) {
            o[i] = mul_out(p, (int32_t)a[i * sa] + p->input1_offset, vb);
        }
    } else {
        for (i = 0; i < n; i++) {
            o[i] = mul_out(p, (int32_t)a[i * sa] + p->input1_offset, (int32_t)b[i * sb] + p->input2_offset);
        }
    }
}

static void mul_row_cb(const void *ctx, int32_t n, const int8_t *a, int32_t sa, const int8_t *b, int32_t sb, int8_t *o)
{
    mul_row((const enn_mul_params *)ctx, n, a, sa, b, sb, o);
}

void enn_mul(const enn_mul_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    enn_bcast_run(prm->out_shape, prm->in1_shape, prm->in2_shape, ENN_MUL_MAX_DIMS, input1, input2, output,
                  mul_row_cb, prm);
}
