/* hard_swish: int8 x * relu6(x + 3) / 6 (TFLM reference_ops::HardSwish<int8_t> semantics). */
#ifndef ENN_HARD_SWISH_H
#define ENN_HARD_SWISH_H

#include "edgenn_prefix.h"

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t reluish_multiplier_fixedpoint_int16; /* Q0.15 */
    int32_t reluish_multiplier_exponent;         /* > 0: left */
    int32_t output_multiplier_fixedpoint_int16;  /* Q0.15 */
    int32_t output_multiplier_exponent;          /* <= 0 */
} enn_hard_swish_params;

/* output may alias input. */
void enn_hard_swish(const enn_hard_swish_params *prm, const int8_t *input, int8_t *output);

#endif
