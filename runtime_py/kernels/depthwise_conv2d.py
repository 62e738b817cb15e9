"""depthwise_conv2d int8 kernel (TFLM reference DepthwiseConvPerChannel), vectorized over the batch.

Output channel c * mult + m = sum over taps of w[ky, kx, c * mult + m] * (x[.., c] + input_offset).
The input is padded with its zero point (padded taps then contribute 0, as TFLM skips them).
Block by block of output rows, the needed input rows are converted to float with their channels
repeated ``mult`` times (so input and output channels line up), and the kernel loops over the
KH * KW taps with vectorized multiply-adds, the tap's weights tiled along the output width so that
numpy's inner loops are long.
Products and partial sums are integers of magnitude <= sum|w| * 128, exact in float32 below 2**24
(float64 otherwise); the input offset is added back per channel as off * sum(w). Requantization
is common.ChannelRequantizer.
"""
from __future__ import annotations

import numpy as np

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
    _, kh, kw, co = w.shape
    mult = co // ci
    ho, wo = y.shape[1], y.shape[2]
    sh, sw, dh, dw = int(o["stride_h"]), int(o["stride_w"]), int(o["dilation_h"]), int(o["dilation_w"])
    pt, pl = int(o["pad_top"]), int(o["pad_left"])
    off = int(o["input_offset"])

    xp = padded_input(x, -off, pt, pl, (ho - 1) * sh + (kh - 1) * dh + 1, (wo - 1) * sw + (kw - 1) * dw + 1)
    w64 = w.astype(np.int64).reshape(kh * kw, co)
    wabs = np.abs(w64).sum(axis=0)
    fdt = np.float32 if int(wabs.max(initial=0)) * 128 < F32_EXACT else np.float64
    # Tap weights tiled along the output width: (KH, KW, Wo, Co).
    wt = np.ascontiguousarray(np.broadcast_to(w.reshape(kh, kw, 1, co).astype(fdt), (kh, kw, wo, co)))
    corr = off * w64.sum(axis=0)
    if b is not None:
        corr = corr + b.astype(np.int64).reshape(co)
    corr = corr.reshape(co, 1)
    wrap = needs_wrap(wabs, b)
    requant = ChannelRequantizer(o["out_multiplier"], o["out_shift"], co, int(o["output_offset"]),
                                 int(o["act_min"]), int(o["act_max"]))
    ws = (wo - 1) * sw + 1

    isz = np.dtype(fdt).itemsize
    for bn, bh in blocks(n, ho, wo, co * (2 * isz + 8)):
        lead = (bn.stop - bn.start, bh.stop - bh.start, wo)
        # The block's input rows, converted to float (channels repeated for the multiplier).
        r_lo = bh.start * sh
        xb = xp[bn, r_lo: (bh.stop - 1) * sh + (kh - 1) * dh + 1]
        xf = (np.repeat(xb, mult, axis=3) if mult > 1 else xb).astype(fdt)
        acc = np.zeros(lead + (co,), fdt)
        tmp = np.empty_like(acc)
        for ky in range(kh):
            rows = slice(ky * dh, ky * dh + (lead[1] - 1) * sh + 1, sh)
            for kx in range(kw):
                np.multiply(xf[:, rows, kx * dw: kx * dw + ws: sw], wt[ky, kx], out=tmp)
                acc += tmp
        a = np.empty((co, acc.size // co), np.int64)
        np.copyto(a, acc.reshape(-1, co).T, casting="unsafe")
        a += corr
        if wrap:
            a = wrap_int32(a)
        y[bn, bh] = requant(a).T.reshape(lead + (co,))
    outs[0][...] = y.reshape(outs[0].shape)
