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
from edgenn.runtime_py.kernels.common import check_bias, check_channel_options, check_window, io_shapes, require
from edgenn.runtime_py.kernels.common import blocks, conv_setup

TRAITS = KernelTraits(overlap="windowed", inputs=("input", "weights", "bias"), optional=("bias",),
                      constants=("weights", "bias"))


def run(op, model, ins, outs, scratch) -> None:
    w = ins[1]
    co, kh, kw, cig = w.shape
    k = kh * kw * cig
    cs = conv_setup(op, ins, outs, (kh, kw), w.astype(np.int64).reshape(co, k))
    n, ci = cs.x.shape[0], cs.x.shape[3]
    ho, wo = cs.y.shape[1], cs.y.shape[2]
    (sh, sw), (dh, dw) = cs.stride, cs.dilation
    groups = ci // cig
    fpg = co // groups
    s_n, s_h, s_w, s_c = cs.xp.strides
    # (N, Ho, Wo, KH, KW, G, Cig): every tap of every output pixel, a view.
    win = as_strided(cs.xp, (n, ho, wo, kh, kw, groups, cig),
                     (s_n, sh * s_h, sw * s_w, dh * s_h, dw * s_w, cig * s_c, s_c), writeable=False)
    wm = w.reshape(groups, fpg, k).astype(cs.fdt)  # (G, F, K)

    isz = np.dtype(cs.fdt).itemsize
    for bn, bh in blocks(n, ho, wo, k * isz + co * 8):
        wv = win[bn, bh]
        lead = wv.shape[:3]
        rows = lead[0] * lead[1] * lead[2]
        if groups == 1:
            cols = np.empty(lead + (kh, kw, cig), cs.fdt)
            np.copyto(cols, wv[..., 0, :], casting="unsafe")
            res = (cols.reshape(rows, k) @ wm[0].T).T  # (Co, rows)
        else:
            cols = np.empty((groups,) + lead + (kh, kw, cig), cs.fdt)
            np.copyto(cols, np.moveaxis(wv, 5, 0), casting="unsafe")
            res = np.matmul(cols.reshape(groups, rows, k), wm.transpose(0, 2, 1)).transpose(0, 2, 1)  # (G, F, rows)
        acc = np.empty((co, rows), np.int64)
        np.copyto(acc.reshape(groups, fpg, rows), res.reshape(groups, fpg, rows), casting="unsafe")
        acc += cs.corr
        if cs.wrap:
            acc = wrap_int32(acc)
        cs.y[bn, bh] = cs.requant(acc).T.reshape(lead + (co,))
    outs[0][...] = cs.y.reshape(outs[0].shape)


def check(op, model) -> None:
    """Weights (Co, KH, KW, Ci / groups) of the input's and output's channels, a bias per channel."""
    check_window(op, model, ch_in=0)
    (x, w, *_), (y,) = io_shapes(op, model)
    require(len(w) == 4 and w[0] == y[3] and w[3] >= 1 and x[3] % w[3] == 0 and y[3] % (x[3] // w[3]) == 0,
            f"weights {w} do not fit input {x} and output {y}")
    check_bias(op, model, 2, y[3])
    check_channel_options(op, y[3])
