"""Biases with the input offset folded in, computed when the code is generated.

A convolution's accumulator is bias + sum w (x + input_offset) = (bias + input_offset * sum w) +
sum w x, an int32 sum that wraps, so the order of its terms does not matter: with the first term
from a table, a kernel multiplies the raw int8 inputs. Taps in the padding must then read the input
zero point (x + input_offset = 0 there), not be skipped. codegen/helium.py's records and the NEON
depthwise kernel (kernels/edgenn_neon.h enn_dw3_pairs_neon) take them.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def folded_bias(filter_by_channel: np.ndarray, bias: np.ndarray | None, input_offset: int) -> np.ndarray:
    """bias + input_offset * sum(filter) per output channel, wrapped to int32; ``filter_by_channel``
    is [channels, taps]."""
    ksum = np.asarray(filter_by_channel, np.int64).sum(axis=1)
    b = np.zeros(ksum.size, np.int64) if bias is None else np.asarray(bias, np.int64).reshape(-1)
    return ((b + int(input_offset) * ksum + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def constant_filter_bias(L: Any) -> tuple[np.ndarray, np.ndarray | None] | None:
    """A convolution template's layer ``L`` (codegen.generate.Layer): its filter and bias (None
    without one) as arrays, or None where either is not constant data (nothing to fold then)."""
    w = L.ins[1]
    b = L.ins[2] if len(L.ins) > 2 else None
    if w is None or w.data is None or (b is not None and b.data is None):
        return None
    return np.asarray(w.data), None if b is None else np.asarray(b.data)


def dw3_folded_bias(L: Any) -> np.ndarray | None:
    """The folded biases of a depthwise_conv2d template's layer ``L`` for the NEON 3x3 kernel, or
    None where it does not apply: not 3x3, a depth multiplier other than 1, a weight of -128 (two
    taps' products would not fit an int16), constant data missing."""
    fb = constant_filter_bias(L)
    if int(L.o["depth_multiplier"]) != 1 or fb is None:
        return None
    f, b = fb
    if f.ndim != 4 or f.shape[:3] != (1, 3, 3) or int(f.min()) == -128:
        return None
    return folded_bias(f.reshape(9, -1).T, b, int(L.o["input_offset"]))
