/* pad: constant padding of an int8 tensor of rank <= 5 (TFLM reference_ops::Pad semantics). */
#ifndef {{ kp|upper }}PAD_H
#define {{ kp|upper }}PAD_H

#include <stdint.h>

#define {{ kp|upper }}PAD_MAX_DIMS 5

typedef struct {
    /* Right-aligned to {{ kp|upper }}PAD_MAX_DIMS axes (leading 1s, no padding). */
    int32_t in_shape[{{ kp|upper }}PAD_MAX_DIMS];
    int32_t out_shape[{{ kp|upper }}PAD_MAX_DIMS];
    int32_t before[{{ kp|upper }}PAD_MAX_DIMS]; /* padding before each axis */
    int32_t pad_value;
} {{ kp }}pad_params;

/* output must not overlap input. */
void {{ kp }}pad(const {{ kp }}pad_params *prm, const int8_t *input, int8_t *output);

#endif
