/* avg_pool2d: int8 average pooling (TFLM reference arithmetic). */
#include "avg_pool2d.h"

#include "edgenn_fixedpoint.h"
#include "edgenn_window.h"

void enn_avg_pool2d(const enn_avg_pool2d_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t depth = prm->input.c;
    const int32_t row = prm->input.w * depth;
    int32_t b;
    for (b = 0; b < prm->input.n; b++) {
        const int8_t *xb = input + b * prm->input.h * row;
        int32_t oy;
        for (oy = 0; oy < prm->output.h; oy++) {
            const int32_t y0 = oy * prm->geom.stride.h - prm->geom.padding.h;
            int32_t fy0;
            int32_t fy1;
            int32_t ox;
            enn_tap_range(y0, 1, prm->input.h, prm->geom.filter.h, &fy0, &fy1);
            for (ox = 0; ox < prm->output.w; ox++) {
                const int32_t x0 = ox * prm->geom.stride.w - prm->geom.padding.w;
                int32_t fx0;
                int32_t fx1;
                int32_t count;
                int32_t nx;
                int32_t c;
                const int8_t *win;
                enn_tap_range(x0, 1, prm->input.w, prm->geom.filter.w, &fx0, &fx1);
                count = (fy1 - fy0) * (fx1 - fx0); /* > 0: checked by the converter */
                nx = fx1 - fx0;
                win = xb + (y0 + fy0) * row + (x0 + fx0) * depth; /* first in-bounds tap */
                for (c = 0; c < depth; c++) {
                    int32_t acc = 0;
                    int32_t fy;
                    for (fy = fy0; fy < fy1; fy++) {
                        const int8_t *p = win + (fy - fy0) * row + c;
                        int32_t k;
                        for (k = 0; k < nx; k++) {
                            acc += p[k * depth];
                        }
                    }
                    /* Round half away from zero; C division truncates like TFLM's. */
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    *output++ = (int8_t)enn_clamp(acc, prm->act.min, prm->act.max);
                }
            }
        }
    }
}
