/* quantize: int8 -> int8 requantization (TFLM reference_ops::Requantize semantics). */
#ifndef {{ kp|upper }}QUANTIZE_H
#define {{ kp|upper }}QUANTIZE_H

#include <stdint.h>

typedef struct {
    int32_t size; /* elements */
    int32_t input_offset;  /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t multiplier;
    int32_t shift;
} {{ kp }}quantize_params;

/* output may alias input. */
void {{ kp }}quantize(const {{ kp }}quantize_params *prm, const int8_t *input, int8_t *output);

#endif
