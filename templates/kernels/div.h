/* div: int8 x1 / x2 with broadcasting (TFLM DivElementwise semantics). */
#ifndef ENN_DIV_H
#define ENN_DIV_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_arith.h"

/* input1/input2.offset: -zero points (their multipliers are unused); left_shift: 1 for TFLM's host
 * arithmetic of right shifts by 32..63, 0 for the exact rounding; output (offset, multiplier
 * s1 / (s2 s_out), shift); act; shapes. */
typedef enn_arith_params enn_div_params;

/* output may alias an input of the output's shape. */
void enn_div(const enn_div_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif
