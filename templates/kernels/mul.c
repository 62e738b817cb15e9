/* mul: int8 elementwise multiplication with broadcasting (TFLM reference arithmetic, bit for bit).
 * Broadcasting visits the output in order; axes are merged where both inputs continue
 * contiguously (or both stay broadcast), so the inner loop is as long as possible. */
#include "mul.h"

#include "edgenn_fixedpoint.h"

static inline int8_t {{ kp }}mul_out(const {{ kp }}mul_params *p, int32_t a, int32_t b)
{
    const int32_t y = enn_mbqm(a * b, p->output_multiplier, (int)p->output_shift) + p->output_offset;
    return (int8_t)enn_clamp(y, p->act_min, p->act_max);
}

/* n outputs; a and b advance by sa, sb (0 = broadcast, 1 = contiguous). */
static void {{ kp }}mul_row(const {{ kp }}mul_params *p, int32_t n, const int8_t *a, int32_t sa, const int8_t *b,
                           int32_t sb, int8_t *o)
{
    int32_t i;
    if (sa == 0) {
        const int32_t va = (int32_t)a[0] + p->input1_offset;
        for (i = 0; i < n; i++) {
            o[i] = {{ kp }}mul_out(p, va, (int32_t)b[i * sb] + p->input2_offset);
        }
    } else if (sb == 0) {
        const int32_t vb = (int32_t)b[0] + p->input2_offset;
        for (i = 0; i < n; i++) {
            o[i] = {{ kp }}mul_out(p, (int32_t)a[i * sa] + p->input1_offset, vb);
        }
    } else {
        for (i = 0; i < n; i++) {
            o[i] = {{ kp }}mul_out(p, (int32_t)a[i * sa] + p->input1_offset, (int32_t)b[i * sb] + p->input2_offset);
        }
    }
}

void {{ kp }}mul(const {{ kp }}mul_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t shape[{{ kp|upper }}MUL_MAX_DIMS];
    int32_t sa[{{ kp|upper }}MUL_MAX_DIMS];
    int32_t sb[{{ kp|upper }}MUL_MAX_DIMS];
    int32_t idx[{{ kp|upper }}MUL_MAX_DIMS];
    int32_t acc_a = 1;
    int32_t acc_b = 1;
    int32_t outer = 1;
    int32_t nd = 0;
    int32_t ia = 0;
    int32_t ib = 0;
    int32_t it;
    int d;
    /* Loops from the innermost axis out; extent-1 output axes vanish, mergeable axes fuse. */
    for (d = {{ kp|upper }}MUL_MAX_DIMS - 1; d >= 0; d--) {
        const int32_t n = prm->out_shape[d];
        if (n != 1) {
            const int32_t a = prm->in1_shape[d] == 1 ? 0 : acc_a;
            const int32_t b = prm->in2_shape[d] == 1 ? 0 : acc_b;
            if (nd > 0 && a == sa[nd - 1] * shape[nd - 1] && b == sb[nd - 1] * shape[nd - 1]) {
                shape[nd - 1] *= n;
            } else {
                shape[nd] = n;
                sa[nd] = a;
                sb[nd] = b;
                nd++;
            }
        }
        acc_a *= prm->in1_shape[d];
        acc_b *= prm->in2_shape[d];
    }
    if (nd == 0) { /* a single element */
        shape[0] = 1;
        sa[0] = 1;
        sb[0] = 1;
        nd = 1;
    }
    if (nd == 1) { /* equal shapes, a scalar against a tensor, or one contiguous broadcast */
        {{ kp }}mul_row(prm, shape[0], input1, sa[0], input2, sb[0], output);
        return;
    }
    for (d = 1; d < nd; d++) {
        idx[d] = 0;
        outer *= shape[d];
    }
    for (it = 0; it < outer; it++) {
        {{ kp }}mul_row(prm, shape[0], input1 + ia, sa[0], input2 + ib, sb[0], output);
        output += shape[0];
        for (d = 1; d < nd; d++) { /* odometer over the outer loops */
            ia += sa[d];
            ib += sb[d];
            if (++idx[d] < shape[d]) {
                break;
            }
            ia -= sa[d] * shape[d];
            ib -= sb[d] * shape[d];
            idx[d] = 0;
        }
    }
}
