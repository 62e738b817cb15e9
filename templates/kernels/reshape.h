/* reshape: the same bytes under a new shape (a copy unless the buffers coincide). */
#ifndef {{ kp|upper }}RESHAPE_H
#define {{ kp|upper }}RESHAPE_H

#include <stdint.h>

void {{ kp }}reshape(const int8_t *input, int8_t *output, int32_t bytes);

#endif
