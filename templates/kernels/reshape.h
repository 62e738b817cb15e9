/* reshape: the same bytes under a new shape (a copy unless the buffers coincide). */
#ifndef ENN_RESHAPE_H
#define ENN_RESHAPE_H

#include "edgenn_prefix.h"

#include <stdint.h>

typedef struct {
    int32_t size; /* bytes */
} enn_reshape_params;

void enn_reshape(const enn_reshape_params *prm, const int8_t *input, int8_t *output);

#endif
