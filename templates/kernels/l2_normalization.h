/* l2_normalization: int8 requantizing copy, y = clamp(offset + requant(x + input_offset)).
 *
 * The C part of the operator contract: plain C99 (no malloc, no float in the int8 path), external
 * names start with enn_ (kernels/edgenn_prefix.h, generated per model, renames them to the model's
 * prefix), warning-free with -std=c99 -Wall -Wextra -Werror on gcc and arm-none-eabi-gcc. Parameter
 * structs compose the blocks of edgenn_types.h; the call is enn_l2_normalization(params, inputs..., outputs...). */
#ifndef ENN_L2_NORMALIZATION_H
#define ENN_L2_NORMALIZATION_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t size;         /* elements */
    int32_t input_offset; /* -input zero point */
    enn_quant output;     /* offset (zero point), multiplier, shift */
} enn_l2_normalization_params;

/* output may alias input (elementwise, in increasing address order). */
void enn_l2_normalization(const enn_l2_normalization_params *prm, const int8_t *input, int8_t *output);

#endif
