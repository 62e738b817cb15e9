"""conv2d int8 kernel (TFLM reference ConvPerChannel), vectorized over the batch.

Exact integer convolution with BLAS: the input is padded with its zero point (so padded taps
contribute (zp + input_offset) * w = 0, exactly TFLM's "skip positions outside the image"),
unfolded into columns (im2col through a strided view), and multiplied with the weights in float.
Every product and partial sum is an integer of magnitude <= sum|w| * 128, so float32 is exact
when that bound is below 2**24 and float64 is used otherwise. The input offset is added back per
channel: sum(w * (x + off)) = sum(w * x) + off * sum(w). Requantization is `ChannelRequantizer`,
an exact, faster rewrite of fixedpoint.requantize_to_int8 (checked against it in the tests).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from edgenn.runtime_py.fixedpoint import wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import F32_EXACT, ChannelRequantizer, blocks, needs_wrap, padded_input

TRAITS = KernelTraits(overlap="windowed", inputs=("input", "weights", "bias"))


def run(op, model, ins, outs, scratch) -> None:
    w = ins[1]
    b = ins[2] if len(ins) > 2 else None
    o = op.options
    # Activations are (samples, *shape) and the shape has its own batch axis: merge the two.
    x = ins[0].reshape((-1,) + ins[0].shape[-3:])
    y = np.empty((x.shape[0],) + outs[0].shape[-3:], np.int8)
    n, h, wd, ci = x.shape
    co, kh, kw, cig = w.shape
    groups = ci // cig
    fpg = co // groups
    ho, wo = y.shape[1], y.shape[2]
    sh, sw, dh, dw = int(o["stride_h"]), int(o["stride_w"]), int(o["dilation_h"]), int(o["dilation_w"])
    pt, pl = int(o["pad_top"]), int(o["pad_left"])
    off = int(o["input_offset"])
    k = kh * kw * cig

    xp = padded_input(x, -off, pt, pl, (ho - 1) * sh + (kh - 1) * dh + 1, (wo - 1) * sw + (kw - 1) * dw + 1)
    s_n, s_h, s_w, s_c = xp.strides
    # (N, Ho, Wo, KH, KW, G, Cig): every tap of every output pixel, a view.
    win = as_strided(xp, (n, ho, wo, kh, kw, groups, cig),
                     (s_n, sh * s_h, sw * s_w, dh * s_h, dw * s_w, cig * s_c, s_c), writeable=False)

    w64 = w.astype(np.int64).reshape(co, k)
    wabs = np.abs(w64).sum(axis=1)
    fdt = np.float32 if int(wabs.max(initial=0)) * 128 < F32_EXACT else np.float64
    corr = off * w64.sum(axis=1)
    if b is not None:
        corr = corr + b.astype(np.int64).reshape(co)
    corr = corr.reshape(co, 1)
    wrap = needs_wrap(wabs, b)
    wm = w.reshape(groups, fpg, k).astype(fdt)  # (G, F, K)
    requant = ChannelRequantizer(o["out_multiplier"], o["out_shift"], co, int(o["output_offset"]),
                                 int(o["act_min"]), int(o["act_max"]))

    isz = np.dtype(fdt).itemsize
    for bn, bh in blocks(n, ho, wo, k * isz + co * 8):
        wv = win[bn, bh]
        lead = wv.shape[:3]
        rows = lead[0] * lead[1] * lead[2]
        if groups == 1:
            cols = np.empty(lead + (kh, kw, cig), fdt)
            np.copyto(cols, wv[..., 0, :], casting="unsafe")
            res = (cols.reshape(rows, k) @ wm[0].T).T  # (Co, rows)
        else:
            cols = np.empty((groups,) + lead + (kh, kw, cig), fdt)
            np.copyto(cols, np.moveaxis(wv, 5, 0), casting="unsafe")
            res = np.matmul(cols.reshape(groups, rows, k), wm.transpose(0, 2, 1)).transpose(0, 2, 1)  # (G, F, rows)
        acc = np.empty((co, rows), np.int64)
        np.copyto(acc.reshape(groups, fpg, rows), res.reshape(groups, fpg, rows), casting="unsafe")
        acc += corr
        if wrap:
            acc = wrap_int32(acc)
        y[bn, bh] = requant(acc).T.reshape(lead + (co,))
    outs[0][...] = y.reshape(outs[0].shape)
