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

# Output pixels per block (column buffer + accumulators): bounds memory and amortizes per-call overhead.
_BLOCK_BYTES = 1 << 22
_F32_EXACT = 1 << 24
_I32_LIMIT = 1 << 31


class ChannelRequantizer:
    """TFLM MultiplyByQuantizedMultiplier + output offset + clamp for int64 accumulators (int32
    values) laid out channels first, (C, rows): channel c with multiplier[c] and shift[c].
    Bit-identical to fixedpoint.requantize_to_int8 (the tests check it); the constants are prepared
    once per operator and numpy's inner loops run along long rows.

    With t = x * m, SaturatingRoundingDoublingHighMul (m >= 0: no saturation case) is
    q = floor((t + 2**30) / 2**31), and RoundingDivideByPOT(q, e) rounds q / 2**e half away from
    zero, i.e. floor((q + h - [q < 0]) / 2**e) with h = 2**(e - 1) (for e > 0; q itself for e = 0).
    The floors nest: with U = t + 2**30 + h * 2**31, r = (floor(U / 2**31) - [q < 0]) >> e, and
    q < 0 exactly when U < h * 2**31. No int64 overflow: |t| < 2**62 and the added terms are < 2**62.
    """

    def __init__(self, multiplier, shift, channels: int, output_offset: int, act_min: int, act_max: int):
        m = np.asarray(multiplier, np.int64).reshape(-1)
        s = np.asarray(shift, np.int64).reshape(-1)
        if m.size == 1 and channels > 1:
            m, s = np.repeat(m, channels), np.repeat(s, channels)
        if m.size != channels or s.size != channels:
            raise ValueError(f"{m.size} multipliers for {channels} channels")
        if np.any(m < 0):
            raise ValueError("negative output multiplier")
        col = (channels, 1)
        left = np.maximum(s, 0)
        e = np.maximum(-s, 0)
        h = (np.int64(1) << e) >> 1
        self.left = left.reshape(col) if np.any(left > 0) else None
        self.m = m.reshape(col)
        self.add = ((np.int64(1) << 30) + (h << 31)).reshape(col)
        # e == 0: no correction (the comparison with INT64_MIN is never true).
        self.neg_below = np.where(e > 0, h << 31, np.iinfo(np.int64).min).reshape(col) if np.any(e > 0) else None
        self.e = e.reshape(col)
        self.lo = int(act_min) - int(output_offset)
        self.hi = int(act_max) - int(output_offset)
        self.offset = int(output_offset)

    def __call__(self, acc: np.ndarray) -> np.ndarray:
        """(C, rows) int64 -> (C, rows) int8; ``acc`` is overwritten."""
        if self.left is not None:
            acc <<= self.left
            acc[...] = wrap_int32(acc)
        acc *= self.m
        acc += self.add
        if self.neg_below is not None:
            neg = acc < self.neg_below
            acc >>= 31
            acc -= neg
            acc >>= self.e
        else:
            acc >>= 31
        np.clip(acc, self.lo, self.hi, out=acc)
        acc += self.offset
        return acc.astype(np.int8)


def requantize_channels(acc: np.ndarray, multiplier, shift, output_offset: int, act_min: int,
                        act_max: int) -> np.ndarray:
    """One-shot ChannelRequantizer on (C, rows) int64 ``acc`` (overwritten)."""
    return ChannelRequantizer(multiplier, shift, acc.shape[0], output_offset, act_min, act_max)(acc)


def padded_input(x: np.ndarray, zero_point: int, pad_top: int, pad_left: int, need_h: int, need_w: int) -> np.ndarray:
    """(N, Hp, Wp, C): x placed at (pad_top, pad_left) in a field of its zero point, at least
    need_h x need_w; x itself when no padding is needed."""
    n, h, w, c = x.shape
    hp, wp = max(need_h, pad_top + h), max(need_w, pad_left + w)
    if pad_top == 0 and pad_left == 0 and hp == h and wp == w:
        return x
    xp = np.full((n, hp, wp, c), zero_point, np.int8)
    xp[:, pad_top:pad_top + h, pad_left:pad_left + w] = x
    return xp


def blocks(n: int, ho: int, wo: int, row_bytes: int):
    """Yield (samples, output rows) slice pairs of blocks holding about _BLOCK_BYTES of output pixels."""
    rows = max(1, _BLOCK_BYTES // max(row_bytes, 1))
    per_sample = ho * wo
    if per_sample <= rows:
        nb = max(1, rows // per_sample)
        for n0 in range(0, n, nb):
            yield slice(n0, min(n, n0 + nb)), slice(0, ho)
    else:
        hb = max(1, rows // wo)
        for i in range(n):
            for h0 in range(0, ho, hb):
                yield slice(i, i + 1), slice(h0, min(ho, h0 + hb))


def needs_wrap(wabs_sum: np.ndarray, bias: np.ndarray | None) -> bool:
    """Whether sum(w * (x + off)) + bias can leave int32 (then TFLM's int32 accumulator wraps)."""
    bound = wabs_sum.astype(np.int64) * 255
    if bias is not None:
        bound = bound + np.abs(bias.astype(np.int64))
    return bool(np.any(bound >= _I32_LIMIT))


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
    fdt = np.float32 if int(wabs.max(initial=0)) * 128 < _F32_EXACT else np.float64
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
