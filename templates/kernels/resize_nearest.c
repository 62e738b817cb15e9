/* resize_nearest: bit-exact with TFLM's reference_ops::ResizeNearestNeighbor (a copy of each
 * chosen pixel's channels, output pixels in memory order). */
#include "resize_nearest.h"

#include "edgenn_simd.h"

void enn_resize_nearest(const enn_resize_nearest_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t depth = prm->input.c;
    const int32_t in_row = prm->input.w * depth;
    const int32_t in_image = prm->input.h * in_row;
    const int32_t out_h = prm->output.h;
    const int32_t out_w = prm->output.w;
    const int32_t *in_x = prm->in_x;
    int32_t b;
    for (b = 0; b < prm->input.n; b++) {
        const int8_t *img = input + b * in_image;
        int32_t oy;
        for (oy = 0; oy < out_h; oy++) {
            const int8_t *row = img + prm->in_y[oy] * in_row;
            int32_t ox;
            for (ox = 0; ox < out_w; ox++, output += depth) {
                enn_copy8(output, row + in_x[ox] * depth, depth);
            }
        }
    }
}
