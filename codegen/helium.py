"""Constant tables for the Helium (Cortex-M55 MVE) kernels, computed when the code is generated.

kernels/conv2d.c's conv2d_run4_mve computes four output channels of a pixel per block, the whole
block (multiply-accumulate and requantization) in one hand-scheduled loop. It reads everything a
block needs besides the filter from one stream, so that a single pointer walks it:

    per four channels: 4 x int32 bias + input_offset * sum(filter)   (wrapping, as the kernel's sum)
                       4 x int32 multiplier
                       4 x int8  left shift  (max(shift, 0))
                       4 x int8  right shift (min(shift, 0): VRSHL by it shifts right)

ten words per four channels. Folding input_offset * sum(filter) into the bias is exact: the
accumulator is an int32 sum that wraps, so the order of its terms does not matter.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from edgenn.codegen.folded import constant_filter_bias, folded_bias

#: words of one four-channel record
RECORD_WORDS = 10


def _shift_words(shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shifts in fours ([k, 4]) as two int32 words each: the left shifts max(shift, 0) and the right
    shifts min(shift, 0), a byte per channel (the kernels' VLDRB.S32)."""
    left = np.maximum(shifts, 0).astype(np.int8).reshape(-1, 4).view(np.int32).reshape(-1)
    right = np.minimum(shifts, 0).astype(np.int8).reshape(-1, 4).view(np.int32).reshape(-1)
    return left, right


def conv_records(filter_: np.ndarray, bias: np.ndarray | None, input_offset: int, multipliers: Any,
                 shifts: Any) -> np.ndarray | None:
    """The record stream of a layer whose filter is ``filter_`` ([out_c, ...] int8), or None where
    the kernel could not use one (fewer than four output channels, a shift outside [-31, 31])."""
    out_c = int(filter_.shape[0])
    m = np.asarray(multipliers, np.int64).reshape(-1)
    s = np.asarray(shifts, np.int64).reshape(-1)
    if out_c < 4 or m.size != out_c or s.size != out_c or s.min() < -31 or s.max() > 31:
        return None
    blocks = out_c // 4
    kbias = folded_bias(filter_.reshape(out_c, -1), bias, input_offset)
    n = blocks * 4
    rec = np.zeros((blocks, RECORD_WORDS), np.int32)
    rec[:, 0:4] = kbias[:n].reshape(blocks, 4)
    rec[:, 4:8] = m[:n].astype(np.int32).reshape(blocks, 4)
    rec[:, 8], rec[:, 9] = _shift_words(s[:n])
    return rec.reshape(-1)


def layer_records(L: Any) -> np.ndarray | None:
    """conv_records for a conv2d template's layer ``L`` (codegen.generate.Layer), or None where its
    filter or bias is not constant data."""
    fb = constant_filter_bias(L)
    if fb is None:
        return None
    return conv_records(*fb, int(L.o["input_offset"]), L.o["out_multiplier"], L.o["out_shift"])


#: kernels/depthwise_conv2d.c's dw3_mve: channels per group, words of a group's record
DW_GROUP = 16
DW_RECORD_WORDS = 16 + 9 * 8 + 4 * 6

#: the order of a group's sixteen channels in the kernel's four accumulators: the even input bytes
#: widened (VMOVLB) hold channels 0, 2, ..., 14, VMULLB / VMULLT take their even / odd lanes.
_DW_LANES = np.array([[0, 4, 8, 12], [2, 6, 10, 14], [1, 5, 9, 13], [3, 7, 11, 15]])


def dw_records(filter_: np.ndarray, bias: np.ndarray | None, input_offset: int, multipliers: Any,
               shifts: Any) -> np.ndarray | None:
    """The record stream of a 3x3 depthwise layer with depth multiplier 1 (``filter_``
    [1, 3, 3, C] int8) for kernels/depthwise_conv2d.c dw3_mve, or None where the kernel could not
    use one. Per group of sixteen channels (the last padded with zero channels):

        4 x (4 x int32)  biases + input_offset * sum(filter), one vector per accumulator
        9 x (8 + 8 x int16)  per tap: the filter of channels 0, 2, ..., 14, then of 1, 3, ..., 15
        4 x (4 x int32 multipliers, 4 x int8 left shifts, 4 x int8 right shifts)  per accumulator
    """
    if filter_.ndim != 4 or filter_.shape[0] != 1 or filter_.shape[1:3] != (3, 3):
        return None
    c = int(filter_.shape[3])
    m = np.asarray(multipliers, np.int64).reshape(-1)
    s = np.asarray(shifts, np.int64).reshape(-1)
    if m.size != c or s.size != c or s.min() < -31 or s.max() > 31:
        return None
    groups = -(-c // DW_GROUP)
    pad = groups * DW_GROUP - c  # the last group's missing channels: zero filter, bias and multiplier
    w = np.pad(filter_.reshape(9, c).astype(np.int64), ((0, 0), (0, pad)))
    kbias = np.pad(folded_bias(filter_.reshape(9, c).T, bias, input_offset), (0, pad))
    mp = np.pad(m, (0, pad))
    sp = np.pad(s, (0, pad))
    order = np.concatenate([np.arange(0, DW_GROUP, 2), np.arange(1, DW_GROUP, 2)])  # even channels, then odd
    out = []
    for g in range(groups):
        ch = g * DW_GROUP + _DW_LANES  # [4 accumulators, 4 lanes]
        left, right = _shift_words(sp[ch])
        words = [kbias[ch].reshape(-1)]
        words += [w[t, g * DW_GROUP + order].astype(np.int16).view(np.int32) for t in range(9)]
        for a in range(4):
            words += [mp[ch[a]].astype(np.int32), left[a:a + 1], right[a:a + 1]]
        out.append(np.concatenate(words))
    rec = np.concatenate(out).astype(np.int32)
    assert rec.size == groups * DW_RECORD_WORDS
    return rec


def dw_layer_records(L: Any) -> np.ndarray | None:
    """dw_records for a depthwise_conv2d template's layer ``L``, or None where the kernel would not
    take the layer (a depth multiplier other than 1, constant data missing)."""
    fb = constant_filter_bias(L)
    if int(L.o["depth_multiplier"]) != 1 or fb is None:
        return None
    return dw_records(*fb, int(L.o["input_offset"]), L.o["out_multiplier"], L.o["out_shift"])
