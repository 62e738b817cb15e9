/* lut: an int8 -> int8 function as a 256-entry table (TFLM's int8 ELU: EvalUsingLookupTable). */
#ifndef ENN_LUT_H
#define ENN_LUT_H

#include "edgenn_prefix.h"

#include <stdint.h>

typedef struct {
    int32_t size; /* elements */
} enn_lut_params;

/* output[i] = table[input[i] + 128]; output may alias input. */
void enn_lut(const enn_lut_params *prm, const int8_t *input, const int8_t *table, int8_t *output);

#endif
