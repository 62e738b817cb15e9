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
from edgenn.runtime_py.kernels.common import check_bias, check_channel_options, check_window, io_shapes, require
from edgenn.runtime_py.kernels.common import blocks, conv_setup

TRAITS = KernelTraits(overlap="windowed", inputs=("input", "weights", "bias"), optional=("bias",),
                      constants=("weights", "bias"))


def run(op, model, ins, outs, scratch) -> None:
    w = ins[1]
    _, kh, kw, co = w.shape
    cs = conv_setup(op, ins, outs, (kh, kw), w.astype(np.int64).reshape(kh * kw, co).T)
    n, ci = cs.x.shape[0], cs.x.shape[3]
    mult = co // ci
    ho, wo = cs.y.shape[1], cs.y.shape[2]
    (sh, sw), (dh, dw) = cs.stride, cs.dilation
    # Tap weights tiled along the output width: (KH, KW, Wo, Co).
    wt = np.ascontiguousarray(np.broadcast_to(w.reshape(kh, kw, 1, co).astype(cs.fdt), (kh, kw, wo, co)))
    ws = (wo - 1) * sw + 1

    isz = np.dtype(cs.fdt).itemsize
    for bn, bh in blocks(n, ho, wo, co * (2 * isz + 8)):
        lead = (bn.stop - bn.start, bh.stop - bh.start, wo)
        # The block's input rows, converted to float (channels repeated for the multiplier).
        r_lo = bh.start * sh
        xb = cs.xp[bn, r_lo: (bh.stop - 1) * sh + (kh - 1) * dh + 1]
        xf = (np.repeat(xb, mult, axis=3) if mult > 1 else xb).astype(cs.fdt)
        acc = np.zeros(lead + (co,), cs.fdt)
        tmp = np.empty_like(acc)
        for ky in range(kh):
            rows = slice(ky * dh, ky * dh + (lead[1] - 1) * sh + 1, sh)
            for kx in range(kw):
                np.multiply(xf[:, rows, kx * dw: kx * dw + ws: sw], wt[ky, kx], out=tmp)
                acc += tmp
        a = np.empty((co, acc.size // co), np.int64)
        np.copyto(a, acc.reshape(-1, co).T, casting="unsafe")
        a += cs.corr
        if cs.wrap:
            a = wrap_int32(a)
        cs.y[bn, bh] = cs.requant(a).T.reshape(lead + (co,))
    outs[0][...] = cs.y.reshape(outs[0].shape)


def check(op, model) -> None:
    """Weights (1, KH, KW, Ci * depth_multiplier) of the output's channels, a bias per channel."""
    check_window(op, model, ch_in=0)
    (x, w, *_), (y,) = io_shapes(op, model)
    mult = int(op.options["depth_multiplier"])
    require(len(w) == 4 and w[0] == 1 and w[3] == y[3] and mult >= 1 and x[3] * mult == y[3],
            f"weights {w} (depth multiplier {mult}) do not fit input {x} and output {y}")
    check_bias(op, model, 2, y[3])
    check_channel_options(op, y[3])
