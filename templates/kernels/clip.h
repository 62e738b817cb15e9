/* clip: clamp int8 values to [act_min, act_max] (input and output share quantization). */
#ifndef {{ kp|upper }}CLIP_H
#define {{ kp|upper }}CLIP_H

#include <stdint.h>

typedef struct {
    int32_t size; /* elements */
    int32_t act_min;
    int32_t act_max;
} {{ kp }}clip_params;

/* output may alias input. */
void {{ kp }}clip(const {{ kp }}clip_params *prm, const int8_t *input, int8_t *output);

#endif
