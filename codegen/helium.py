"""Constant tables for the Helium (Cortex-M55 MVE) kernels, computed when the code is generated.

kernels/conv2d.c's conv2d_col4_mve computes four output channels of a pixel per block, the whole
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

#: words of one four-channel record
RECORD_WORDS = 10


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
    ksum = filter_.reshape(out_c, -1).astype(np.int64).sum(axis=1)
    b = np.zeros(out_c, np.int64) if bias is None else np.asarray(bias, np.int64).reshape(-1)
    kbias = ((b + int(input_offset) * ksum + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)
    n = blocks * 4
    rec = np.zeros((blocks, RECORD_WORDS), np.int32)
    rec[:, 0:4] = kbias[:n].reshape(blocks, 4)
    rec[:, 4:8] = m[:n].astype(np.int32).reshape(blocks, 4)
    left = np.maximum(s[:n], 0).astype(np.int8).reshape(blocks, 4)
    right = np.minimum(s[:n], 0).astype(np.int8).reshape(blocks, 4)
    rec[:, 8] = left.view(np.int32).reshape(blocks)
    rec[:, 9] = right.view(np.int32).reshape(blocks)
    return rec.reshape(-1)


def layer_records(L: Any) -> np.ndarray | None:
    """conv_records for a conv2d template's layer ``L`` (codegen.generate.Layer), or None where its
    filter or bias is not constant data."""
    w = L.ins[1]
    b = L.ins[2] if len(L.ins) > 2 else None
    if w is None or w.data is None or (b is not None and b.data is None):
        return None
    return conv_records(np.asarray(w.data), None if b is None else np.asarray(b.data), int(L.o["input_offset"]),
                        L.o["out_multiplier"], L.o["out_shift"])
