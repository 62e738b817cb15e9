/* quantize: int8 -> int8 requantization (TFLM reference_ops::Requantize semantics). */
#ifndef ENN_QUANTIZE_H
#define ENN_QUANTIZE_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t size;         /* elements */
    int32_t input_offset; /* -input zero point */
    enn_quant output;     /* offset: zero point */
} enn_quantize_params;

/* output may alias input. */
void enn_quantize(const enn_quantize_params *prm, const int8_t *input, int8_t *output);

#endif
