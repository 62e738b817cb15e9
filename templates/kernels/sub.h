/* sub: int8 elementwise subtraction with broadcasting (TFLM reference_ops::Sub / BroadcastQuantSubSlow
 * semantics for int8). */
#ifndef ENN_SUB_H
#define ENN_SUB_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_arith.h"

/* left_shift, input1/input2 (offset, multiplier, shift to the common scale), output, act, shapes. */
typedef enn_arith_params enn_sub_params;

/* output = input1 - input2; output may alias an input of the output's shape. */
void enn_sub(const enn_sub_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif
