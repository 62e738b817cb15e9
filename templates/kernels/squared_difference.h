/* squared_difference: int8 (x1 - x2)^2 with broadcasting (TFLM SquaredDifference<int8_t> semantics). */
#ifndef ENN_SQUARED_DIFFERENCE_H
#define ENN_SQUARED_DIFFERENCE_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_arith.h"

/* left_shift (7), input1/input2 (offset, multiplier, shift to the common scale), output (offset,
 * multiplier, shift > 0: left), act (-128, 127), shapes. */
typedef enn_arith_params enn_squared_difference_params;

/* output may alias an input of the output's shape. */
void enn_squared_difference(const enn_squared_difference_params *prm, const int8_t *input1, const int8_t *input2,
                            int8_t *output);

#endif
