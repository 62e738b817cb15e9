/* quantize: int8 / int16 -> int8 / int16 / int32 requantization (TFLM reference_ops::Requantize semantics). */
#ifndef ENN_QUANTIZE_H
#define ENN_QUANTIZE_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t size;         /* elements */
    int32_t input_offset; /* -input zero point */
    enn_quant output;     /* offset: zero point */
    int32_t input_int16;  /* the input is int16 (else int8) */
    int32_t output_bytes; /* the output is int8 (1), int16 (2) or int32 (4) */
} enn_quantize_params;

/* output may alias input when it is not wider. */
void enn_quantize(const enn_quantize_params *prm, const void *input, void *output);

#endif
