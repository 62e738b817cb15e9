/* resize_bilinear: bit-exact with TFLM's reference_ops::ResizeBilinearInteger.
 *
 * TFLM sums four int64 products input * wy * wx; here the two rows are mixed first and the result
 * weighted by the columns, which is the same integer. Every weight lies in [-512, 1536] and the two
 * weights of an axis add to 1024, with a negative weight only where both source rows (columns) are
 * the same, so each partial sum is at most 128 * 2048 * 2048 = 2^29 in magnitude: int32 is exact. */
#include "resize_bilinear.h"

void enn_resize_bilinear(const enn_resize_bilinear_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t depth = prm->input.c;
    const int32_t in_h = prm->input.h;
    const int32_t in_row = prm->input.w * depth;
    const int32_t out_h = prm->output.h;
    const int32_t out_w = prm->output.w;
    const int32_t *x0 = prm->x0;
    const int32_t *x1 = prm->x1;
    const int32_t *fx = prm->fx;
    int32_t b;
    for (b = 0; b < prm->input.n; b++) {
        const int8_t *img = input + b * in_h * in_row;
        int32_t oy;
        for (oy = 0; oy < out_h; oy++) {
            const int8_t *r0 = img + prm->y0[oy] * in_row;
            const int8_t *r1 = img + prm->y1[oy] * in_row;
            const int32_t wy1 = prm->fy[oy];
            const int32_t wy0 = 1024 - wy1;
            int32_t ox;
            for (ox = 0; ox < out_w; ox++) {
                const int8_t *p00 = r0 + x0[ox] * depth;
                const int8_t *p01 = r0 + x1[ox] * depth;
                const int8_t *p10 = r1 + x0[ox] * depth;
                const int8_t *p11 = r1 + x1[ox] * depth;
                const int32_t wx1 = fx[ox];
                const int32_t wx0 = 1024 - wx1;
                int32_t c;
                for (c = 0; c < depth; c++) {
                    const int32_t left = (int32_t)p00[c] * wy0 + (int32_t)p10[c] * wy1;
                    const int32_t right = (int32_t)p01[c] * wy0 + (int32_t)p11[c] * wy1;
                    const int32_t acc = left * wx0 + right * wx1;
                    /* TFLM: (acc +- 2^19) / 2^20, C division (toward zero) */
                    const int32_t v = acc >= 0 ? (acc + (1 << 19)) >> 20 : -((-acc + (1 << 19)) >> 20);
                    *output++ = (int8_t)v;
                }
            }
        }
    }
}
