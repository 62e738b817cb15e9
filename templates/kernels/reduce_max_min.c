/* reduce_max_min: for every output, the extreme of its reduced elements (edgenn_reduce.h visits
 * them). The minimum is taken as the maximum of the bitwise complement (~v = -1 - v reverses the
 * int8 order), so one comparison serves both; bool bytes (0 / 1) are compared as int8 too. */
#include "reduce_max_min.h"

#include "edgenn_reduce.h"

void enn_reduce_max_min(const enn_reduce_max_min_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t flip = prm->is_max ? 0 : -1; /* v ^ flip: v or ~v */
    enn_reduce_plan p;
    int32_t inner, inner_stride;
    int32_t o;
    enn_reduce_plan_init(&p, prm->rank, prm->dims, prm->reduce_mask);
    inner = p.inner; /* locals: output stores could alias the plan */
    inner_stride = p.inner_stride;
    for (o = 0; o < p.num_out; o++) {
        int32_t best = -129; /* below every value */
        int32_t off = p.base;
        do {
            const int8_t *q = input + off;
            int32_t j;
            for (j = 0; j < inner; j++) {
                const int32_t v = q[j * inner_stride] ^ flip;
                best = v > best ? v : best;
            }
        } while (enn_reduce_next_run(&p, &off));
        output[o] = (int8_t)(best ^ flip);
        enn_reduce_next_output(&p);
    }
}
