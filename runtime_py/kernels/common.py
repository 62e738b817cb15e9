"""Helpers shared by several numpy kernels: exact per-channel requantization, padded inputs and
output blocks for the convolutions, pooling windows, the 256 x 256 lookup of binary operators and
TFLM's two-input arithmetic (ADD / SUB: inputs rescaled to a common fixed-point scale)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from edgenn import limits
from edgenn.errors import ModelFormatError
from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32


# Output pixels per block (column buffer + accumulators): bounds memory and amortizes per-call overhead.
_BLOCK_BYTES = 1 << 22


F32_EXACT = 1 << 24


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


# The padded plane a windowed kernel builds is at most this many times its input, plus this many
# bytes: real models pad by less than a filter; only strides, dilations or pads far beyond the input
# (which the C kernels run by skipping taps, allocating nothing) need more.
PLANE_GROWTH, PLANE_SLACK_BYTES = 16, 1 << 20


def padded_plane(x: np.ndarray, fill: int, hp: int, wp: int) -> np.ndarray:
    """An (N, hp, wp, C) plane of ``fill`` for x's padded copy, refused when absurdly larger than x."""
    n, h, w, c = x.shape
    if hp * wp * c > PLANE_GROWTH * h * w * c + PLANE_SLACK_BYTES:
        raise ModelFormatError(f"a windowed operator's strides, dilations or pads span {hp} x {wp} positions over a "
                               f"{h} x {w} input: the Python reference does not pad that far (the generated C "
                               "skips such taps)")
    return np.full((n, hp, wp, c), fill, x.dtype)


def padded_input(x: np.ndarray, zero_point: int, pad_top: int, pad_left: int, need_h: int, need_w: int) -> np.ndarray:
    """(N, Hp, Wp, C): x placed at (pad_top, pad_left) in a field of its zero point, at least
    need_h x need_w; x itself when no padding is needed."""
    n, h, w, c = x.shape
    hp, wp = max(need_h, pad_top + h), max(need_w, pad_left + w)
    if pad_top == 0 and pad_left == 0 and hp == h and wp == w:
        return x
    xp = padded_plane(x.astype(np.int8, copy=False), zero_point, hp, wp)
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


def windows(x: np.ndarray, o: dict, out_hw: tuple[int, int], fill: int):
    """Yield, per filter tap (ky, kx), the (N, OH, OW, C) input values under that tap of every
    output window, with out-of-bounds positions set to ``fill``."""
    n, h, w, c = x.shape
    oh, ow = out_hw
    fh, fw, sh, sw = o["filter_h"], o["filter_w"], o["stride_h"], o["stride_w"]
    pt, pl = o["pad_top"], o["pad_left"]
    ph = max((oh - 1) * sh + fh, pt + h)
    pw = max((ow - 1) * sw + fw, pl + w)
    xp = padded_plane(x, fill, ph, pw)
    xp[:, pt:pt + h, pl:pl + w, :] = x
    for ky in range(fh):
        for kx in range(fw):
            yield xp[:, ky:ky + (oh - 1) * sh + 1:sh, kx:kx + (ow - 1) * sw + 1:sw, :]


def single_window(x: np.ndarray, o: dict, out_hw: tuple[int, int]) -> np.ndarray | None:
    """The in-bounds part of the only window when the output is 1x1 (global pooling), else None."""
    if tuple(out_hw) != (1, 1):
        return None
    h, w = x.shape[1], x.shape[2]
    y0, x0 = -o["pad_top"], -o["pad_left"]
    return x[:, max(0, y0):min(h, y0 + o["filter_h"]), max(0, x0):min(w, x0 + o["filter_w"]), :]


def valid_counts(o: dict, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """(OH, OW) number of in-bounds elements of each window (TFLM's filter_count)."""
    def one(out: int, size: int, f: int, s: int, p: int) -> np.ndarray:
        origin = np.arange(out) * s - p
        return np.minimum(f, size - origin) - np.maximum(0, -origin)
    ch = one(out_hw[0], in_hw[0], o["filter_h"], o["stride_h"], o["pad_top"])
    cw = one(out_hw[1], in_hw[1], o["filter_w"], o["stride_w"], o["pad_left"])
    return np.outer(ch, cw)


def operand(model, op, ins, k: int, rank: int) -> np.ndarray:
    """Input k shaped to broadcast against the (N, *output_shape) output (right-aligned axes)."""
    t = model.tensors[op.inputs[k]]
    x = ins[k]
    pad = (1,) * (rank - len(t.shape))
    if t.is_const:
        return np.asarray(x).reshape((1,) + pad + tuple(t.shape))
    return x.reshape((x.shape[0],) + pad + tuple(t.shape))


def lookup(table: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """table[a + 128, b + 128] for int8 arrays a, b (broadcast), table flat of 65536 values."""
    ia = (a.view(np.uint8) ^ np.uint8(0x80)).astype(np.uint16) << np.uint16(8)
    ib = b.view(np.uint8) ^ np.uint8(0x80)
    return table[ia | ib]


def binary_run(op, model, ins, outs, table: np.ndarray) -> None:
    """A broadcasting two-input operator whose result depends on the two int8 values alone:
    output = table[input1, input2] (``table`` as for ``lookup``)."""
    rank = len(model.tensors[op.outputs[0]].shape)
    outs[0][...] = lookup(table, operand(model, op, ins, 0, rank), operand(model, op, ins, 1, rank))


def lookup256(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """table[x + 128] for an int8 array x, table of 256 values."""
    return table[np.asarray(x).view(np.uint8) ^ np.uint8(0x80)]


INT8_VALUES = np.arange(-128, 128, dtype=np.int64)


def scaled_input(values, offset: int, left_shift: int, multiplier: int, shift: int) -> np.ndarray:
    """TFLM's first stage of ADD / SUB / SQUARED_DIFFERENCE / the comparisons:
    ((x + offset) << left_shift) * M, rounded (MultiplyByQuantizedMultiplierSmallerThanOneExp)."""
    shifted = wrap_int32((np.asarray(values, np.int64) + offset) * (1 << left_shift))
    return multiply_by_quantized_multiplier(shifted, multiplier, shift)


def scaled_inputs(o) -> tuple[np.ndarray, np.ndarray]:
    """The scaled value of every int8 value of input 1 and of input 2 (options left_shift and
    input{1,2}_offset / _multiplier / _shift)."""
    return tuple(scaled_input(INT8_VALUES, int(o[f"input{k}_offset"]), int(o["left_shift"]),
                              int(o[f"input{k}_multiplier"]), int(o[f"input{k}_shift"])) for k in (1, 2))


def option_table(keys: tuple[str, ...]):
    """Decorator for the table builders of the table-driven kernels: ``build(o, *extra)`` gets the
    options ``keys`` as ints; the result is cached per parameter set and read-only."""
    def wrap(build):
        @lru_cache(maxsize=256)
        def cached(values: tuple[int, ...], *extra) -> np.ndarray:
            t = build(dict(zip(keys, values)), *extra)
            t.flags.writeable = False
            return t

        def table(o, *extra) -> np.ndarray:
            return cached(tuple(int(o[k]) for k in keys), *extra)
        table.__doc__ = build.__doc__
        return table
    return wrap


ARITH_KEYS = ("left_shift", "input1_offset", "input1_multiplier", "input1_shift", "input2_offset",
              "input2_multiplier", "input2_shift", "output_offset", "output_multiplier", "output_shift", "act_min",
              "act_max")


@option_table(ARITH_KEYS)
def addsub_table(o, sign: int) -> np.ndarray:
    """All 65536 results of TFLM's int8 AddFunc (sign 1) or SubFunc (sign -1), indexed
    [(x1 + 128) * 256 + (x2 + 128)] (read-only, cached per parameter set)."""
    s1, s2 = scaled_inputs(o)
    raw = wrap_int32(s1[:, None] + sign * s2[None, :])
    y = multiply_by_quantized_multiplier(raw, o["output_multiplier"], o["output_shift"]) + o["output_offset"]
    return np.clip(y, o["act_min"], o["act_max"]).astype(np.int8).reshape(-1)


@dataclass
class ConvSetup:
    """What conv2d and depthwise_conv2d prepare alike for one call."""

    x: np.ndarray  # input images (samples x model batch, H, W, C)
    y: np.ndarray  # int8 output buffer (samples x model batch, Ho, Wo, Co)
    xp: np.ndarray  # x padded with its zero point to cover every tap
    stride: tuple[int, int]
    dilation: tuple[int, int]
    fdt: Any  # float32 when every partial sum is exact in it, else float64
    corr: np.ndarray  # (Co, 1) int64: input_offset * sum(filter) + bias
    wrap: bool  # whether accumulators can leave int32 (TFLM's wrap-around then applies)
    requant: ChannelRequantizer


def conv_setup(op, ins, outs, filter_hw: tuple[int, int], w_rows: np.ndarray) -> ConvSetup:
    """The common part of the convolution kernels; ``w_rows`` holds each output channel's weights as
    a row, (Co, taps) int64. Padded taps contribute (zp + input_offset) * w = 0, as TFLM skips them."""
    o = op.options
    b = ins[2] if len(ins) > 2 else None
    # Activations are (samples, *shape) and the shape has its own batch axis: merge the two.
    x = ins[0].reshape((-1,) + ins[0].shape[-3:])
    y = np.empty((x.shape[0],) + outs[0].shape[-3:], np.int8)
    (kh, kw), (ho, wo), co = filter_hw, y.shape[1:3], y.shape[3]
    sh, sw, dh, dw = int(o["stride_h"]), int(o["stride_w"]), int(o["dilation_h"]), int(o["dilation_w"])
    off = int(o["input_offset"])
    xp = padded_input(x, -off, int(o["pad_top"]), int(o["pad_left"]), (ho - 1) * sh + (kh - 1) * dh + 1,
                      (wo - 1) * sw + (kw - 1) * dw + 1)
    wabs = np.abs(w_rows).sum(axis=1)
    fdt = np.float32 if int(wabs.max(initial=0)) * 128 < F32_EXACT else np.float64
    corr = off * w_rows.sum(axis=1)
    if b is not None:
        corr = corr + b.astype(np.int64).reshape(co)
    requant = ChannelRequantizer(o["out_multiplier"], o["out_shift"], co, int(o["output_offset"]),
                                 int(o["act_min"]), int(o["act_max"]))
    return ConvSetup(x, y, xp, (sh, sw), (dh, dw), fdt, corr.reshape(co, 1), needs_wrap(wabs, b), requant)


def transposed_conv_sums(x: np.ndarray, w: np.ndarray, stride: tuple[int, int], top_left: tuple[int, int],
                         out_hw: tuple[int, int]) -> np.ndarray:
    """(M, OH, OW, Co) float64: for every input pixel (iy, ix) and tap (ky, kx), x[iy, ix] @ w[:, ky, kx].T
    added at output (iy * sh - top + ky, ix * sw - left + kx), cropped to the output (transposed
    convolution). x (M, H, W, Ci), w (Co, KH, KW, Ci); exact for integer operands below 2^53 in total."""
    m, h, wd, _ = x.shape
    co, kh, kw, _ = w.shape
    (sh, sw), (pt, pl), (oh, ow) = stride, top_left, out_hw
    acc = np.zeros((m, max((h - 1) * sh + kh, pt + oh), max((wd - 1) * sw + kw, pl + ow), co), np.float64)
    xf, wf = x.astype(np.float64), w.astype(np.float64)
    for ky in range(kh):
        for kx in range(kw):
            acc[:, ky:ky + (h - 1) * sh + 1:sh, kx:kx + (wd - 1) * sw + 1:sw] += xf @ wf[:, ky, kx, :].T
    return acc[:, pt:pt + oh, pl:pl + ow]


# ---------------------------------------------------------------------- data movement
# slice, tile and mirror_pad read output element (i_0, ..., i_r) from input element
# (map_0(i_0), ..., map_r(i_r)): one index array per axis.

def take_axes(x: np.ndarray, index: list[np.ndarray]) -> np.ndarray:
    """x[:, index_0, ..., index_r] as an outer product over the axes after the leading sample axis."""
    if not index:
        return x.copy()
    return x[(slice(None),) + np.ix_(*[np.asarray(i, np.intp) for i in index])]


def slice_index(begin: int, size: int, stride: int) -> np.ndarray:
    """Input positions begin, begin + stride, ... (size of them) of a strided slice along one axis."""
    return int(begin) + np.arange(int(size), dtype=np.int64) * int(stride)


def tile_index(n_out: int, n_in: int) -> np.ndarray:
    """Input positions of a tiled (or broadcast, n_in == 1) axis: i mod n_in."""
    return np.arange(int(n_out), dtype=np.int64) % int(n_in)


MIRROR_MODES = {"reflect": 0, "symmetric": 1, "edge": 2}


def mirror_index(n_out: int, before: int, n_in: int, mode: int) -> np.ndarray:
    """Input positions of a mirror-padded axis: reflect (the edge not repeated, TFLite REFLECT, ONNX
    reflect), symmetric (the edge repeated, TFLite SYMMETRIC) or edge (the edge value, ONNX edge)."""
    i = np.arange(int(n_out), dtype=np.int64) - int(before)
    n = int(n_in)
    if mode == MIRROR_MODES["edge"]:
        return np.clip(i, 0, n - 1)
    k = 0 if mode == MIRROR_MODES["reflect"] else 1
    i = np.where(i < 0, -i - k, i)
    return np.where(i >= n, 2 * n - 2 + k - i, i)


def contiguous_offset(shape, begin, size, stride) -> int | None:
    """Element offset of a strided slice inside its input when the slice is one contiguous run of
    the input's elements (in order), else None: every axis inside the first partial one is whole,
    every axis outside it has extent 1, and no axis of extent > 1 has a step other than 1."""
    off, step, inner_whole = 0, 1, True
    for d in reversed(range(len(shape))):
        n = int(size[d])
        if n == 0:
            return None
        if n > 1 and (not inner_whole or int(stride[d]) != 1):
            return None
        off += int(begin[d]) * step
        inner_whole = inner_whole and n == int(shape[d])
        step *= int(shape[d])
    return off


def clamp_indices(indices: np.ndarray, extent: int) -> np.ndarray:
    """Indices read at run time (gather): a negative index counts from the end (ONNX), then any
    index outside [0, extent) is clamped to the nearest row."""
    idx = np.asarray(indices, np.int64)
    return np.clip(np.where(idx < 0, idx + extent, idx), 0, extent - 1)


def gather_rows(x: np.ndarray, in_shape, axis: int, batch_dims: int, indices: np.ndarray) -> np.ndarray:
    """TFLM Gather on (N, *in_shape) ``x``: (N, batch, outer, coordinates, inner) with
    out[..., b, o, c, :] = x[..., b, o, indices[b, c], :] (batch = the first batch_dims axes, outer =
    the axes up to ``axis``, inner = those after it)."""
    idx = np.asarray(indices, np.int64).reshape(-1)
    batch = int(np.prod(in_shape[:batch_dims], dtype=np.int64))
    outer = int(np.prod(in_shape[batch_dims:axis], dtype=np.int64))
    inner = int(np.prod(in_shape[axis + 1:], dtype=np.int64))
    xv = x.reshape(x.shape[0], batch, outer, int(in_shape[axis]), inner)
    rows = idx.reshape(batch, 1, idx.size // max(batch, 1))
    return xv[:, np.arange(batch)[:, None, None], np.arange(outer)[None, :, None], rows]


# ---------------------------------------------------------------------- recurrent operators
# TFLM's integer LSTM arithmetic (lstm_eval.cc: reference_integer_ops FullyConnected int8 -> int16,
# int16 Logistic and Tanh, MulElementwise, saturating int16 add), shared by lstm, gru and rnn.
# Gate pre-activations are Q3.12 (scale 2^-12), gate outputs Q0.15 (2^-15). Arrays hold int64
# values; every function returns int64 arrays of the C kernel's (templates/kernels/edgenn_recurrent.h).

# TFLM's sigmoid_table_uint16 (kernels/internal/common.h): sigmoid(i / 24) in 0.16 fixed point as
# TFLM tabulates it (within 1 of the rounded value; the table, not a formula, defines the results).
SIGMOID_TABLE_U16 = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535], np.int64)


def fc_int16(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, input_offset: int, multiplier: int,
             shift: int) -> np.ndarray:
    """TFLM FullyConnected int8 x int8 -> int16 (per tensor, symmetric weights): rows (..., K) of x
    times w (H, K), plus the int32 bias, accumulated in int32, requantized, clamped to int16."""
    k = w.shape[-1]
    # int8 products summed in float64 are exact (|sum| << 2**53): BLAS does the integer work.
    xf = x.reshape(-1, k).astype(np.float64) + input_offset
    acc = (xf @ w.reshape(-1, k).T.astype(np.float64)).astype(np.int64)
    if bias is not None:
        acc += np.asarray(bias, np.int64).reshape(1, -1)
    y = multiply_by_quantized_multiplier(wrap_int32(acc), multiplier, shift)
    return np.clip(y, -32768, 32767).reshape(x.shape[:-1] + (w.shape[0],))


def add_sat16(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """TFLM lstm_internal::AddElementWise: int16 + int16, saturated."""
    return np.clip(np.asarray(a, np.int64) + np.asarray(b, np.int64), -32768, 32767)


def _int16_lut_input(x: np.ndarray, multiplier: int, left_shift: int) -> np.ndarray:
    """The int16 logistic / tanh input scaling: multiplier 0 means 3 << left_shift (power of two)."""
    if multiplier == 0:
        multiplier, left_shift = 3 << left_shift, 0
    rnd = (1 << (left_shift - 1)) if left_shift > 0 else 0
    return (np.asarray(x, np.int64) * multiplier + rnd) >> left_shift


def sigmoid_int16(x: np.ndarray, multiplier: int = 0, left_shift: int = 0) -> np.ndarray:
    """TFLM reference_integer_ops::Logistic on int16 (Q3.12 in, Q0.15 out with the LSTM's parameters)."""
    v = _int16_lut_input(x, multiplier, left_shift)
    a = np.abs(v)
    uh = a >> 9
    k = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE_U16[k], SIGMOID_TABLE_U16[k + 1]
    res = np.where(uh >= 255, 0x7FFF << 10, (ua << 9) + (a & 0x1FF) * (ub - ua))
    res = np.where(v >= 0, res + (1 << 9), (1 << 25) - res + (1 << 9) - 1)
    return res >> 10


def tanh_int16(x: np.ndarray, multiplier: int = 0, left_shift: int = 0) -> np.ndarray:
    """TFLM reference_integer_ops::Tanh on int16 (tanh(x) = 2 sigmoid(2x) - 1 on the same table)."""
    v = _int16_lut_input(x, multiplier, left_shift)
    a = np.abs(v)
    uh = a >> 8
    k = np.minimum(uh, 254)
    ua, ub = SIGMOID_TABLE_U16[k], SIGMOID_TABLE_U16[k + 1]
    res = np.where(uh >= 255, 0xFFFF << 8, (ua << 8) + (a & 0xFF) * (ub - ua))
    res = np.where(v >= 0, res - (1 << 23) + (1 << 7), -res + (1 << 23) + (1 << 7) - 1)
    return res >> 8


def cell_tanh_params(cell_scale_power: int) -> tuple[int, int]:
    """(multiplier, left_shift) of TFLM's tanh of an int16 value of scale 2^cell_scale_power
    (lstm_internal::Tanh): a right shift with multiplier 3 when 12 + power < 0, else a left shift."""
    shift = 15 + int(cell_scale_power) - 3
    return (3, -shift) if shift < 0 else (0, shift)


def mul_int16(a: np.ndarray, b: np.ndarray, multiplier: int, shift: int, output_offset: int = 0,
              lo: int = -32768, hi: int = 32767) -> np.ndarray:
    """TFLM MulElementwise of two symmetric int16 tensors: requantized product plus the output
    offset, clamped to [lo, hi] (int16 or int8 output)."""
    p = wrap_int32(np.asarray(a, np.int64) * np.asarray(b, np.int64))
    return np.clip(output_offset + multiply_by_quantized_multiplier(p, multiplier, shift), lo, hi)


def recurrent_steps(x: np.ndarray, time_major: bool, reverse: bool):
    """(t, x_t) over the steps of a sequence input (N, T, B, I) or (N, B, T, I), in processing order;
    x_t is (N, B, I). Batch rows are independent, so TFLM's batch-by-batch order of a batch-major
    input gives the same bytes as stepping all rows together."""
    steps = x.shape[1] if time_major else x.shape[2]
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        yield t, (x[:, t] if time_major else x[:, :, t])



# ---------------------------------------------------------------- load-time checks (``check``)
# Each raises ValueError with a short reason; runtime_py.kernels.check_op names the operator.

def require(ok: bool, why: str) -> None:
    """Refuse the operator with ``why`` unless ``ok``."""
    if not ok:
        raise ValueError(why)


def io_shapes(op, model) -> tuple[list[tuple[int, ...] | None], list[tuple[int, ...]]]:
    """The shapes of an operator's inputs (None: absent) and outputs."""
    ins = [tuple(model.tensors[i].shape) if i >= 0 else None for i in op.inputs]
    return ins, [tuple(model.tensors[i].shape) for i in op.outputs]


def elements(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def check_same_shape(op, model) -> None:
    """An elementwise operator of one input: the output has the input's shape."""
    ins, outs = io_shapes(op, model)
    require(ins[0] == outs[0], f"maps input shape {ins[0]} to output shape {outs[0]}; they must be equal")


def check_broadcast(op, model) -> None:
    """A broadcasting operator: every input broadcasts (right-aligned) to the output's shape."""
    ins, outs = io_shapes(op, model)
    for k, s in enumerate(ins):
        if s is None:
            continue
        try:
            ok = len(s) <= len(outs[0]) and np.broadcast_shapes(s, outs[0]) == outs[0]
        except ValueError:
            ok = False
        require(ok, f"input {k} of shape {s} does not broadcast to the output shape {outs[0]}")


def check_channel_options(op, channels: int) -> None:
    """Per-channel requantization: out_multiplier / out_shift hold 1 or ``channels`` values, the same count."""
    o = op.options
    m, s = np.asarray(o.get("out_multiplier", [])).reshape(-1), np.asarray(o.get("out_shift", [])).reshape(-1)
    require(m.size in (1, channels) and s.size == m.size,
            f"has {m.size} output multipliers and {s.size} shifts for {channels} channels")
    require(bool(np.all(m >= 0)) and bool(np.all((s >= -31) & (s <= 31))),
            "has a negative output multiplier or a shift outside [-31, 31]")


def check_bias(op, model, k: int, channels: int) -> None:
    """Input ``k`` (a bias), when present: ``channels`` int32 values."""
    if len(op.inputs) > k and op.inputs[k] >= 0:
        b = model.tensors[op.inputs[k]]
        require(b.dtype == "int32" and b.size == channels, f"bias {b.name!r} is {b.dtype} {b.shape}, needs "
                f"{channels} int32 values")


def check_window(op, model, ch_in: int | None = None) -> None:
    """A windowed operator of 4-D NHWC tensors: batch (and channels, when ``ch_in`` is None) kept,
    strides, dilations and filter extents at least 1, pads not negative."""
    ins, outs = io_shapes(op, model)
    require(len(ins[0]) == 4 and len(outs[0]) == 4, f"needs 4-D NHWC tensors, has {ins[0]} -> {outs[0]}")
    require(ins[0][0] == outs[0][0], f"changes the batch {ins[0][0]} -> {outs[0][0]}")
    if ch_in is None:
        require(ins[0][3] == outs[0][3], f"changes the channels {ins[0][3]} -> {outs[0][3]}")
    o = op.options
    if "input_offset" in o and model.tensors[op.inputs[0]].dtype == "int8":
        # a convolution pads its int8 input with the zero point, -input_offset
        require(-127 <= int(o["input_offset"]) <= 128, f"has input_offset {int(o['input_offset'])}")
    # Extents are bounded as tensors are (a filter may span a whole tall input, e.g. a global pool).
    extent = limits.MAX_TENSOR_BYTES
    for key in ("stride_h", "stride_w", "dilation_h", "dilation_w", "filter_h", "filter_w"):
        if key in o:
            require(1 <= int(o[key]) <= extent, f"has {key} {int(o[key])}")
    # A transposed convolution's bottom/right pads are informational and may be negative.
    pads = ("pad_top", "pad_left") if op.type == "transpose_conv" else ("pad_top", "pad_left", "pad_bottom", "pad_right")
    for key in pads:
        if key in o:
            require(0 <= int(o[key]) <= extent, f"has {key} {int(o[key])}")


def check_pool(op, model) -> None:
    """A pooling window: ``check_window`` and the window's extent and strides stated (a pool has no
    weights to take them from)."""
    o = op.options
    missing = [k for k in ("filter_h", "filter_w", "stride_h", "stride_w") if k not in o]
    require(not missing, f"has no {', '.join(missing)} option")
    check_window(op, model)
    # The kernels visit every tap of the window: no wider than the padded input it slides over.
    (x,), _ = io_shapes(op, model)
    for key, size, pads in (("filter_h", x[1], ("pad_top", "pad_bottom")), ("filter_w", x[2], ("pad_left", "pad_right"))):
        extent = size + sum(int(o.get(k, 0)) for k in pads)
        require(int(o[key]) <= extent, f"has {key} {int(o[key])} over a padded input of {extent}")


def check_index_option(op, key: str, count: int, limit: int) -> None:
    """Option ``key`` holds ``count`` indices, each in [0, limit)."""
    v = np.asarray(op.options.get(key, []), np.int64).reshape(-1)
    require(v.size == count, f"option {key} has {v.size} values, needs {count}")
    require(bool(np.all((v >= 0) & (v < limit))), f"option {key} indexes outside 0..{limit - 1}")


def check_axes(op, key: str, rank: int) -> None:
    """Option ``key`` holds distinct axes of a rank-``rank`` tensor."""
    v = [int(a) for a in np.asarray(op.options.get(key, []), np.int64).reshape(-1)]
    require(all(0 <= a < rank for a in v) and len(set(v)) == len(v), f"option {key} {v} is not distinct axes "
            f"of a rank-{rank} tensor")


def check_reduction(op, model, axes: list[int]) -> None:
    """Output 0 holds one value per position of input 0 outside ``axes`` (kept as 1s or dropped)."""
    (x,), (y,) = io_shapes(op, model)
    kept = math.prod(d for a, d in enumerate(x) if a not in set(axes))
    require(math.prod(y) == kept, f"output {tuple(y)} is not input {tuple(x)} reduced over axes {list(axes)}")


def check_pads(op, model) -> None:
    """A padding operator: ``pads`` holds (before, after) per axis, not negative, growing the input to
    the output's shape."""
    (x,), (y,) = io_shapes(op, model)
    pads = np.asarray(op.options["pads"], np.int64).reshape(-1)
    require(pads.size == 2 * len(x) and len(y) == len(x) and bool(np.all(pads >= 0))
            and all(a + int(b) + int(c) == o for a, (b, c), o in zip(x, pads.reshape(-1, 2), y)),
            f"pads {pads.tolist()} do not grow {x} to {y}")


def check_requant(op, pairs: tuple[tuple[str, str], ...], count: int = 1) -> None:
    """Options (multiplier, shift) of each pair hold ``count`` values each (1: a scalar), multipliers
    not negative and shifts in [-31, 31], as the C kernels' fixed-point helpers need."""
    for mk, sk in pairs:
        m = np.asarray(op.options[mk], np.int64).reshape(-1)
        s = np.asarray(op.options[sk], np.int64).reshape(-1)
        require(m.size == count and s.size == count, f"has {m.size} {mk} and {s.size} {sk} values, needs {count}")
        require(bool(np.all((m >= 0) & (m < 1 << 31))) and bool(np.all((s >= -31) & (s <= 31))),
                f"has {mk} outside [0, 2^31) or {sk} outside [-31, 31]")


def check_scratch(op, need: int) -> None:
    """The operator's planned scratch holds the ``need`` bytes its C kernel writes."""
    require(int(op.scratch_bytes) >= need, f"has {int(op.scratch_bytes)} bytes of scratch, its kernel needs {need}")


def check_tensor(model, index: int, what: str, dtype: str | tuple[str, ...], size: int,
                 shape: tuple[int, ...] | None = None) -> None:
    """Tensor ``index`` (a named operand) has the dtype, element count and, if given, shape a kernel reads."""
    t = model.tensors[index]
    dtypes = (dtype,) if isinstance(dtype, str) else dtype
    ok = t.dtype in dtypes and elements(t.shape) == size and (shape is None or tuple(t.shape) == shape)
    require(ok, f"{what} {t.name!r} is {t.dtype} {tuple(t.shape)}, needs {'/'.join(dtypes)} "
            f"{shape if shape is not None else f'of {size} values'}")


def check_recurrent(op, model, gates: int, state: int, biases: tuple[int, ...]) -> tuple[int, int]:
    """A recurrent operator's operands: x (T, B, I) and y (T, B, H) when time-major, else (B, T, I)
    and (B, T, H); ``gates`` input weights (H, I) from input 1, as many recurrent weights (H, H) after
    them, int32 biases of H at ``biases`` (when present), the int8 hidden state of B x H at ``state``.
    Returns (batch, hidden)."""
    (x, *_), (y,) = io_shapes(op, model)
    require(len(x) == 3 and len(y) == 3 and x[:2] == y[:2], f"input {x} and output {y} must be (time, batch, "
            "features) or (batch, time, features) with the same first two axes")
    batch, n_in, hidden = x[1] if op.options["time_major"] else x[0], x[2], y[2]
    for k in range(1, 1 + gates):
        check_tensor(model, op.inputs[k], "input weights", "int8", n_in * hidden, (hidden, n_in))
    for k in range(1 + gates, 1 + 2 * gates):
        check_tensor(model, op.inputs[k], "recurrent weights", "int8", hidden * hidden, (hidden, hidden))
    for k in biases:
        check_bias(op, model, k, hidden)
    check_tensor(model, op.inputs[state], "hidden state", "int8", batch * hidden)
    for key in ("input_offset", "hidden_offset"):
        require(-255 <= int(op.options[key]) <= 255, f"has {key} {int(op.options[key])}")
    require(-128 <= int(op.options["hidden_zero_point"]) <= 127, "has a hidden zero point outside int8")
    return batch, hidden
