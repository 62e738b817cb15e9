/* mean: int8 mean (or TFLM's sum) over axes (TFLM reference arithmetic). No scratch: every output
 * sums its reduced elements in a register (edgenn_reduce.h merges adjacent axes first, so e.g. a
 * global average pool over NHWC is: for each channel, a strided sum over H*W). */
#include "mean.h"

#include "edgenn_fixedpoint.h"
#include "edgenn_reduce.h"

void enn_mean(const enn_mean_params *prm, const int8_t *input, int8_t *output)
{
    enn_reduce_plan p;
    int32_t inner, inner_stride;
    int32_t o;
    enn_reduce_plan_init(&p, prm->rank, prm->dims, prm->reduce_mask);
    inner = p.inner; /* locals: output stores could alias the plan */
    inner_stride = p.inner_stride;
    for (o = 0; o < p.num_out; o++) {
        const int32_t zero_sum = prm->input_offset * p.count; /* |.| <= 128 * count < 2^31 */
        int32_t sum = 0;
        int32_t off = p.base;
        do {
            const int8_t *q = input + off;
            int32_t j;
            for (j = 0; j < inner; j++) {
                sum += q[j * inner_stride];
            }
        } while (enn_reduce_next_run(&p, &off));
        sum = enn_mbqm(sum + zero_sum, prm->output.multiplier, (int)prm->output.shift) + prm->output.offset;
        output[o] = (int8_t)enn_clamp(sum, -128, 127);
        enn_reduce_next_output(&p);
    }
}
