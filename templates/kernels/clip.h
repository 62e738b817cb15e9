/* clip: clamp int8 values to [act.min, act.max]; with requantize, first rescale to the output's
 * quantization (TFLM's ReluQuantized). */
#ifndef ENN_CLIP_H
#define ENN_CLIP_H

#include "edgenn_prefix.h"

#include <stdint.h>

#include "edgenn_types.h"

typedef struct {
    int32_t size; /* elements */
    enn_act act;
    int32_t requantize;   /* 0: input and output share quantization */
    int32_t input_offset; /* -input zero point */
    enn_quant output;     /* offset: zero point */
} enn_clip_params;

/* output may alias input. */
void enn_clip(const enn_clip_params *prm, const int8_t *input, int8_t *output);

#endif
