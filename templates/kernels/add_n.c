/* add_n: int8 sum of n tensors (TFLM reference arithmetic, bit for bit): every input rescaled as in
 * ADD, ((x + offset) << left_shift) * multiplier, summed in int32 from `initial` (no overflow for up
 * to 15 inputs), requantized to the output. */
#include "add_n.h"

#include "edgenn_fixedpoint.h"

void enn_add_n(const enn_add_n_params *prm, const int8_t *const *inputs, int8_t *output)
{
    const int32_t size = prm->size;
    const int32_t n = prm->n;
    const int32_t left = (int32_t)1 << prm->left_shift;
    int32_t i;
    for (i = 0; i < size; i++) {
        int32_t acc = prm->initial;
        int32_t k;
        for (k = 0; k < n; k++) {
            acc += enn_mbqm(((int32_t)inputs[k][i] + prm->input_offset[k]) * left, prm->input_multiplier[k],
                            (int)prm->input_shift[k]);
        }
        output[i] = (int8_t)enn_clamp(enn_mbqm(acc, prm->output.multiplier, (int)prm->output.shift) +
                                          prm->output.offset,
                                      prm->act.min, prm->act.max);
    }
}
