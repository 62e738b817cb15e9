/* transpose: permutation of the axes of an int8 tensor of rank <= 6 (TFLM reference_ops::Transpose). */
#ifndef {{ kp|upper }}TRANSPOSE_H
#define {{ kp|upper }}TRANSPOSE_H

#include <stdint.h>

#define {{ kp|upper }}TRANSPOSE_MAX_DIMS 6

typedef struct {
    /* Right-aligned to {{ kp|upper }}TRANSPOSE_MAX_DIMS axes: leading 1s, perm extended by identity. */
    int32_t in_shape[{{ kp|upper }}TRANSPOSE_MAX_DIMS];
    int32_t perm[{{ kp|upper }}TRANSPOSE_MAX_DIMS]; /* output axis d is input axis perm[d] */
} {{ kp }}transpose_params;

/* output must not overlap input. */
void {{ kp }}transpose(const {{ kp }}transpose_params *prm, const int8_t *input, int8_t *output);

#endif
