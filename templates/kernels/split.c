/* split: the input is read in order; each outer step hands every output its next chunk. */
#include "split.h"

void enn_split(const enn_split_params *prm, const int8_t *input, int8_t *const *outputs)
{
    int32_t k;
    for (k = 0; k < prm->outer; k++) {
        int32_t i;
        for (i = 0; i < prm->num_outputs; i++) {
            const int32_t n = prm->chunk[i];
            enn_copy_bytes(outputs[i] + k * n, input, n);
            input += n;
        }
    }
}
