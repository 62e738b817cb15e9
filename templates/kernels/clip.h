/* clip: clamp int8 values to [act_min, act_max]; with requantize, first rescale to the output's
 * quantization (TFLM's ReluQuantized). */
#ifndef {{ kp|upper }}CLIP_H
#define {{ kp|upper }}CLIP_H

#include <stdint.h>

typedef struct {
    int32_t size; /* elements */
    int32_t act_min;
    int32_t act_max;
    int32_t requantize; /* 0: input and output share quantization */
    int32_t input_offset;
    int32_t output_offset;
    int32_t multiplier;
    int32_t shift;
} {{ kp }}clip_params;

/* output may alias input. */
void {{ kp }}clip(const {{ kp }}clip_params *prm, const int8_t *input, int8_t *output);

#endif
