/* Window geometry shared by the windowed kernels (conv2d, depthwise_conv2d, pooling). */
#ifndef EDGENN_WINDOW_H
#define EDGENN_WINDOW_H

#include "edgenn_prefix.h"

#include <stdint.h>

/* First (lo) and one-past-last (hi) filter tap k with 0 <= origin + k * dilation < size: the taps
 * of a window starting at ``origin`` that fall inside the input (implicit padding is skipped). */
static inline void enn_tap_range(int32_t origin, int32_t dilation, int32_t size, int32_t taps, int32_t *lo,
                                 int32_t *hi)
{
    int32_t l = 0;
    int32_t h = taps;
    if (origin < 0) {
        l = (-origin + dilation - 1) / dilation;
    }
    if (origin + (taps - 1) * dilation >= size) {
        h = size - origin > 0 ? (size - origin - 1) / dilation + 1 : 0;
    }
    if (h < l) {
        h = l;
    }
    *lo = l;
    *hi = h;
}

/* Output columns from ox on (one whose window starts inside the input) whose windows of taps
 * taps, dilation apart, end inside the input too: the length of a run of whole windows. */
static inline int32_t enn_inside_run(int32_t ox, int32_t out_w, int32_t in_w, int32_t taps, int32_t dilation,
                                     int32_t padding, int32_t stride)
{
    const int32_t last = (in_w - 1 - (taps - 1) * dilation + padding) / stride;
    return (last < out_w - 1 ? last : out_w - 1) - ox + 1;
}

#endif /* EDGENN_WINDOW_H */
