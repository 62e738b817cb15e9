/* add: int8 elementwise addition with broadcasting (TFLM reference arithmetic, bit for bit; the
 * arithmetic, its fast exact forms and the Helium path are edgenn_arith.h's, shared with sub). */
#include "add.h"

void enn_add(const enn_add_params *prm, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    enn_addsub(prm, input1, input2, output, 1);
}
