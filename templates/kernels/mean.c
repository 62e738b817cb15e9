/* mean: int8 mean over axes (TFLM reference arithmetic). No scratch: every output sums its
 * reduced elements in a register. Adjacent axes of the same kind (kept / reduced) are merged
 * first, so e.g. a global average pool over NHWC is: for each channel, a strided sum over H*W. */
#include "mean.h"

#include "edgenn_fixedpoint.h"

#define MAXR ENN_MEAN_MAX_RANK

void enn_mean(const enn_mean_params *prm, const int8_t *input, int8_t *output)
{
    /* Merged groups, innermost first: sizes and input strides of kept and reduced axes. */
    int32_t kd[MAXR], ks[MAXR], ki[MAXR];
    int32_t rd[MAXR], rs[MAXR], ri[MAXR];
    int32_t nk = 0, nr = 0;
    int32_t stride = 1;
    int32_t count = 1;
    int32_t num_out = 1;
    int last = -1; /* kind of the last group: 0 kept, 1 reduced */
    int32_t i;
    for (i = prm->rank - 1; i >= 0; i--) {
        const int32_t d = prm->dims[i];
        const int red = (int)((prm->reduce_mask >> i) & 1u);
        if (d != 1) {
            if (red) {
                if (last == 1) {
                    rd[nr - 1] *= d;
                } else {
                    rd[nr] = d;
                    rs[nr] = stride;
                    ri[nr] = 0;
                    nr++;
                }
                count *= d;
            } else {
                if (last == 0) {
                    kd[nk - 1] *= d;
                } else {
                    kd[nk] = d;
                    ks[nk] = stride;
                    ki[nk] = 0;
                    nk++;
                }
                num_out *= d;
            }
            last = red;
        }
        stride *= d;
    }
    {
        const int32_t zero_sum = prm->input_offset * count; /* |.| <= 128 * count < 2^31 */
        const int32_t inner = nr > 0 ? rd[0] : 1;
        const int32_t inner_stride = nr > 0 ? rs[0] : 0;
        int32_t base = 0;
        int32_t o;
        for (o = 0; o < num_out; o++) {
            int32_t sum = 0;
            int32_t off = base;
            int32_t g;
            for (;;) {
                const int8_t *p = input + off;
                int32_t j;
                for (j = 0; j < inner; j++) {
                    sum += p[j * inner_stride];
                }
                for (g = 1; g < nr; g++) { /* next outer reduced position */
                    off += rs[g];
                    if (++ri[g] < rd[g]) {
                        break;
                    }
                    off -= rs[g] * rd[g];
                    ri[g] = 0;
                }
                if (g >= nr) {
                    break;
                }
            }
            sum = enn_mbqm(sum + zero_sum, prm->output.multiplier, (int)prm->output.shift) + prm->output.offset;
            output[o] = (int8_t)enn_clamp(sum, -128, 127);
            for (g = 0; g < nk; g++) { /* next output position */
                base += ks[g];
                if (++ki[g] < kd[g]) {
                    break;
                }
                base -= ks[g] * kd[g];
                ki[g] = 0;
            }
        }
    }
}

#undef MAXR
