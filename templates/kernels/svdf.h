/* svdf: TFLM's integer SVDF; the activation state (int16 or int8) is shifted and updated in place. */
#ifndef ENN_SVDF_H
#define ENN_SVDF_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t batch, input_size, filters, memory, rank;
    int32_t state_int8; /* the time weights and the state are int8 (else int16) */
    int32_t input_zero_point, state_zero_point, output_zero_point;
    int32_t scale1_multiplier, scale1_shift; /* x . feature weights -> state */
    int32_t scale2_multiplier, scale2_shift; /* state . time weights (+ bias) -> output */
} enn_svdf_params;

/* weights_time and state: int16_t or int8_t (state_int8); bias: [filters / rank] or NULL;
 * scratch: filters int32. */
void enn_svdf(const enn_svdf_params *prm, const int8_t *input, const int8_t *weights_feature, const void *weights_time,
              const int32_t *bias, void *state, int8_t *output, int32_t *scratch);

#endif
