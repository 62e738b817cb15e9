/* concat: int8 concatenation along one axis (TFLM reference_ops::Concatenation). */
#include "concat.h"

void enn_concat(const enn_concat_params *prm, const int8_t *const *inputs, int8_t *output)
{
    int32_t k;
    for (k = 0; k < prm->outer; k++) {
        int32_t i;
        for (i = 0; i < prm->num_inputs; i++) {
            const int32_t n = prm->chunk[i];
            const int8_t *src = inputs[i] + k * n;
            if (src != output) { /* an input the planner placed in its slice is already there */
                int32_t j;
                for (j = 0; j < n; j++) {
                    output[j] = src[j];
                }
            }
            output += n;
        }
    }
}
