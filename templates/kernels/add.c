/* add: int8 elementwise addition with broadcasting (TFLM reference arithmetic, bit for bit).
 * Broadcasting visits the output in order; axes are merged where both inputs continue
 * contiguously (or both stay broadcast), so the inner loop is as long as possible. */
#include "add.h"

#include "edgenn_fixedpoint.h"

/* ((x + offset) << left_shift) rescaled by a multiplier < 1 (TFLM AddFunc, first stage). */
static inline int32_t {{ kp }}add_scale(int32_t x, int32_t offset, int32_t left_shift, int32_t multiplier,
                                      int32_t shift)
{
    return enn_mbqm((x + offset) * ((int32_t)1 << left_shift), multiplier, (int)shift);
}

static inline int8_t {{ kp }}add_out(const {{ kp }}add_params *p, int32_t raw_sum)
{
    const int32_t y = enn_mbqm(raw_sum, p->output_multiplier, (int)p->output_shift) + p->output_offset;
    return (int8_t)enn_clamp(y, p->act_min, p->act_max);
}

/* n outputs; a and b advance by sa, sb (0 = broadcast, 1 = contiguous). */
static void {{ kp }}add_row(const {{ kp }}add_params *p, int32_t n, const int8_t *a, int32_t sa, const int8_t *b,
                           int32_t sb, int8_t *o)
{
    int32_t i;
    if (sa == 0) {
        const int32_t va = {{ kp }}add_scale(a[0], p->input1_offset, p->left_shift, p->input1_multiplier,
                                            p->input1_shift);
        for (i = 0; i < n; i++) {
            o[i] = {{ kp }}add_out(p, va + {{ kp }}add_scale(b[i * sb], p->input2_offset, p->left_shift,
                                                           p->input2_multiplier, p->input2_shift));
        }
    } else if (sb == 0) {
        const int32_t vb = {{ kp }}add_scale(b[0], p->input2_offset, p->left_shift, p->input2_multiplier,
                                            p->input2_shift);
        for (i = 0; i < n; i++) {
            o[i] = {{ kp }}add_out(p, {{ kp }}add_scale(a[i * sa], p->input1_offset, p->left_shift,
                                                      p->input1_multiplier, p->input1_shift) + vb);
        }
    } else {
        for (i = 0; i < n; i++) {
            o[i] = {{ kp }}add_out(p, {{ kp }}add_scale(a[i * sa], p->input1_offset, p->left_shift,
                                                      p->input1_multiplier, p->input1_shift) +
                                         {{ kp }}add_scale(b[i * sb], p->input2_offset, p->left_shift,
                                                           p->input2_multiplier, p->input2_shift));
        }
    }
}

void {{ kp }}add(const {{ kp }}add_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t shape[{{ kp|upper }}ADD_MAX_DIMS];
    int32_t sa[{{ kp|upper }}ADD_MAX_DIMS];
    int32_t sb[{{ kp|upper }}ADD_MAX_DIMS];
    int32_t idx[{{ kp|upper }}ADD_MAX_DIMS];
    int32_t acc_a = 1;
    int32_t acc_b = 1;
    int32_t outer = 1;
    int32_t nd = 0;
    int32_t ia = 0;
    int32_t ib = 0;
    int32_t it;
    int d;
    /* Loops from the innermost axis out; extent-1 output axes vanish, mergeable axes fuse. */
    for (d = {{ kp|upper }}ADD_MAX_DIMS - 1; d >= 0; d--) {
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
        {{ kp }}add_row(prm, shape[0], input1, sa[0], input2, sb[0], output);
        return;
    }
    for (d = 1; d < nd; d++) {
        idx[d] = 0;
        outer *= shape[d];
    }
    for (it = 0; it < outer; it++) {
        {{ kp }}add_row(prm, shape[0], input1 + ia, sa[0], input2 + ib, sb[0], output);
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
