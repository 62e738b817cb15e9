/* Parameter building blocks shared by the kernels' parameter structs, so that the same quantity
 * has the same name and layout in every operator (conv2d's input dimensions and avg_pool2d's are
 * both an enn_dims, every clamp is an enn_act, ...). All int32_t; the op templates fill them
 * (templates/ops/<op>.c.j2) and the kernels copy what their inner loops need into locals.
 *
 * A kernel is called as enn_<op>(const enn_<op>_params *p, <inputs...>, <outputs...>). */
#ifndef EDGENN_TYPES_H
#define EDGENN_TYPES_H

#include "edgenn_prefix.h"

#include <stdint.h>

/* A 4-D NHWC tensor: batches, height, width, channels. */
typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} enn_dims;

/* A pair of values along height and width. */
typedef struct {
    int32_t h;
    int32_t w;
} enn_hw;

/* The window geometry of a 2-D windowed operator (convolutions, pooling). Window (oy, ox) starts
 * at input row oy * stride.h - padding.h and column ox * stride.w - padding.w (padding: top and
 * left; bottom and right follow from the output size); its taps are dilation apart. */
typedef struct {
    enn_hw filter;
    enn_hw stride;
    enn_hw dilation;
    enn_hw padding;
} enn_geom2d;

/* Activation clamp of the output, in output units (-128, 127: none). */
typedef struct {
    int32_t min;
    int32_t max;
} enn_act;

/* Per-tensor requantization into a quantized value: offset + x * multiplier * 2^(shift - 31)
 * (enn_mbqm; shift > 0: left). For an operator's output the offset is its zero point; for an
 * input of add it is the input's negated zero point, added before the rescale. */
typedef struct {
    int32_t offset;
    int32_t multiplier;
    int32_t shift;
} enn_quant;

/* Per-channel requantization: one multiplier and shift per output channel (enn_mbqm; the shift in
 * [-31, 31], a byte per channel in flash), and each
 * channel's t = clamp(-shift, 1, 31) - 1 (31 for a zero multiplier) for the fast forms enn_rq_r
 * and enn_rq8 (NULL where a kernel does not use it). */
typedef struct {
    const int32_t *multiplier;
    const int8_t *shift;
    const uint8_t *rshift;
} enn_pc_quant;

#endif /* EDGENN_TYPES_H */
