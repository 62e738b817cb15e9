/* arg_min_max: for every (outer, inner) position, a scan along the axis keeping the running extreme.
 * Working on -x for the minimum turns ARG_MIN into ARG_MAX with the same ties; "greater" (first
 * index wins) or "greater or equal" (last index wins) decides the ties. Indices are stored with
 * memcpy: an int64 output need only be 4-byte aligned in the arena. */
#include "arg_min_max.h"

#include <string.h>

void enn_arg_min_max(const enn_arg_min_max_params *prm, const int8_t *input, void *output)
{
    const int32_t outer = prm->outer;
    const int32_t n = prm->axis_size;
    const int32_t inner = prm->inner;
    const int32_t sign = prm->is_arg_max ? 1 : -1;
    const int32_t last = prm->select_last;
    const int32_t wide = prm->index_bytes == 8;
    uint8_t *out = (uint8_t *)output;
    int32_t o;
    for (o = 0; o < outer; o++) {
        const int8_t *base = input + (int32_t)o * n * inner;
        int32_t i;
        for (i = 0; i < inner; i++) {
            int32_t best = sign * base[i];
            int32_t best_k = 0;
            int32_t k;
            for (k = 1; k < n; k++) {
                const int32_t v = sign * base[k * inner + i];
                if (v > best || (last && v == best)) {
                    best = v;
                    best_k = k;
                }
            }
            if (wide) {
                const int64_t idx = best_k;
                memcpy(out, &idx, 8);
                out += 8;
            } else {
                memcpy(out, &best_k, 4);
                out += 4;
            }
        }
    }
}
