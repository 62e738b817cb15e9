"""Constant tables for the AArch64 NEON convolution kernels, computed when the code is generated.

kernels/edgenn_neon.h's enn_gemm2_neon computes eight output channels of two pixels per block and
requantizes them without per-layer set-up. Besides the filter it reads one record per eight
channels, with everything in the int32 lanes its instructions take:

    8 x int32 bias + input_offset * sum(filter)   (wrapping, as the kernel's sum)
    8 x int32 multiplier
    8 x int32 left shift  (max(shift, 0): SSHL)
    8 x int32 right shift (min(shift, 0): SRSHL by it shifts right)

32 words (128 B) per eight channels. The 64-bit Pis have flash to spare; the four vector loads of a
record serve both pixels of a block.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from edgenn.codegen.folded import constant_filter_bias, folded_bias

#: output channels per record, words of a record
GROUP = 8
RECORD_WORDS = 4 * GROUP


def gemm_records(filter_: np.ndarray, bias: np.ndarray | None, input_offset: int, multipliers: Any,
                 shifts: Any) -> np.ndarray | None:
    """The record stream of a layer whose filter is ``filter_`` ([out_c, ...] int8), or None where
    the kernel does not apply: output channels not in whole eights, a shift outside [-31, 31]."""
    out_c = int(filter_.shape[0])
    m = np.asarray(multipliers, np.int64).reshape(-1)
    s = np.asarray(shifts, np.int64).reshape(-1)
    if out_c == 0 or out_c % GROUP or m.size != out_c or s.size != out_c or s.min() < -31 or s.max() > 31:
        return None
    groups = out_c // GROUP
    rec = np.zeros((groups, 4, GROUP), np.int32)
    rec[:, 0] = folded_bias(filter_.reshape(out_c, -1), bias, input_offset).reshape(groups, GROUP)
    rec[:, 1] = m.astype(np.int32).reshape(groups, GROUP)
    rec[:, 2] = np.maximum(s, 0).astype(np.int32).reshape(groups, GROUP)
    rec[:, 3] = np.minimum(s, 0).astype(np.int32).reshape(groups, GROUP)
    return rec.reshape(-1)


def aarch64(board: Any) -> bool:
    """True for a board whose compiler targets AArch64 (the kernel needs its 32 vector registers)."""
    return "neon" in board.features and "aarch64" in board.cc


def layer_records(L: Any, board: Any) -> np.ndarray | None:
    """gemm_records for a conv2d template's layer ``L`` (codegen.generate.Layer) on ``board``, or
    None where the board is not AArch64 or the filter or bias is not constant data."""
    if not aarch64(board):
        return None
    fb = constant_filter_bias(L)
    if fb is None:
        return None
    return gemm_records(*fb, int(L.o["input_offset"]), L.o["out_multiplier"], L.o["out_shift"])
