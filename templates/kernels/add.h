/* add: int8 elementwise addition with broadcasting (TFLM reference_integer_ops::Add semantics). */
#ifndef ENN_ADD_H
#define ENN_ADD_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_arith.h"

#define ENN_ADD_MAX_DIMS ENN_ARITH_MAX_DIMS

/* left_shift, input1/input2 (offset, multiplier, shift to the common scale), output, act, shapes. */
typedef enn_arith_params enn_add_params;

/* output may alias an input of the output's shape. */
void enn_add(const enn_add_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif
