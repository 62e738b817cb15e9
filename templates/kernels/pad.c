/* pad: constant padding (TFLM reference_ops::Pad). The output is written in order, one row of
 * the innermost axis at a time: a row outside the input is all pad value, a row inside it is
 * pad value, the input row, pad value. */
#include "pad.h"

static void pad_fill(int8_t *dst, int32_t n, int8_t v)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        dst[i] = v;
    }
}

void enn_pad(const enn_pad_params *prm, const int8_t *input, int8_t *output)
{
    const int32_t *is = prm->in_shape;
    const int32_t *os = prm->out_shape;
    const int32_t *b = prm->before;
    const int8_t v = (int8_t)prm->pad_value;
    const int32_t row = os[4];
    const int32_t left = b[4];
    const int32_t width = is[4];
    const int32_t right = row - left - width;
    int32_t i0, i1, i2, i3;
    for (i0 = 0; i0 < os[0]; i0++) {
        const int32_t j0 = i0 - b[0];
        const int inside0 = j0 >= 0 && j0 < is[0];
        for (i1 = 0; i1 < os[1]; i1++) {
            const int32_t j1 = i1 - b[1];
            const int inside1 = inside0 && j1 >= 0 && j1 < is[1];
            for (i2 = 0; i2 < os[2]; i2++) {
                const int32_t j2 = i2 - b[2];
                const int inside2 = inside1 && j2 >= 0 && j2 < is[2];
                for (i3 = 0; i3 < os[3]; i3++) {
                    const int32_t j3 = i3 - b[3];
                    if (inside2 && j3 >= 0 && j3 < is[3]) {
                        const int8_t *src = input + (((j0 * is[1] + j1) * is[2] + j2) * is[3] + j3) * width;
                        int32_t k;
                        pad_fill(output, left, v);
                        for (k = 0; k < width; k++) {
                            output[left + k] = src[k];
                        }
                        pad_fill(output + left + width, right, v);
                    } else {
                        pad_fill(output, row, v);
                    }
                    output += row;
                }
            }
        }
    }
}
