/* sub: int8 elementwise subtraction with broadcasting (TFLM reference arithmetic, bit for bit:
 * ADD's with the rescaled second input subtracted; edgenn_arith.h). */
#include "sub.h"

void enn_sub(const enn_sub_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    enn_addsub(prm, input1, input2, output, -1);
}
