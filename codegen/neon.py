"""Constant tables for the AArch64 NEON convolution and fully connected kernels, computed when the
code is generated.

kernels/edgenn_neon.h's enn_gemm2_neon (conv2d: eight output channels of two pixels per block) and
enn_fc8_neon (fully_connected: eight units of one row) read their filter packed: per eight filters,
per step of sixteen values, the eight filters' sixteen bytes one after the other, then (columns of
16 k + 8 values) their last eight bytes likewise, so that one pointer walks it, 64 bytes per load
(LD1 of four registers); the int8 filter stays for every other path (a 64-bit Pi's binary has room
for both). And one record per eight channels, with everything in the int32 lanes the
requantization takes:

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
#: kernels/conv2d.c's CONV2D_GATHER with NEON: windows of at most this many bytes are gathered
GATHER_BYTES = 1024


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


def packed_filter(filter_: np.ndarray) -> np.ndarray:
    """``filter_`` [out_c, ...] (int8; out_c in whole eights) packed as the kernels read it (see the
    module's docstring), each filter zero-padded to whole eights of values, as a flat int8 array."""
    out_c = int(filter_.shape[0])
    f = np.asarray(filter_, np.int8).reshape(out_c // GROUP, GROUP, -1)  # block, filter, value
    n = (f.shape[2] + 7) // 8 * 8
    f = np.concatenate([f, np.zeros(f.shape[:2] + (n - f.shape[2],), np.int8)], axis=2)
    whole = n // 16 * 16
    steps = f[:, :, :whole].reshape(f.shape[0], GROUP, whole // 16, 16).transpose(0, 2, 1, 3)
    parts = [steps.reshape(f.shape[0], -1)]
    if n > whole:
        parts.append(f[:, :, whole:].reshape(f.shape[0], -1))
    return np.concatenate(parts, axis=1).reshape(-1)


def takes_packed(model: Any, op: Any) -> bool:
    """Whether the AArch64 kernels run ``op`` (of an EnnModel) from a packed filter with records:
    a conv2d of one group (1x1 filters over channels in whole eights, or windows the kernel gathers:
    at most GATHER_BYTES, any length, padded) or a fully_connected without a filter offset over rows
    in whole eights; constant unencoded int8 weights, output channels in whole eights, shifts
    within [-31, 31]."""
    from edgenn.format import enn

    if op.type not in ("conv2d", "fully_connected") or len(op.inputs) < 2:
        return False
    w = model.tensors[op.inputs[1]]
    if not w.is_const or w.is_encoded or w.dtype != "int8" or w.data is None:
        return False
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        b = model.tensors[op.inputs[2]]
        if not b.is_const or b.is_encoded or b.data is None:
            return False
    o = enn.complete_options(op)
    out_c, n = int(w.shape[0]), int(np.prod(w.shape[1:]))
    if op.type == "conv2d":
        if int(w.shape[3]) != int(model.tensors[op.inputs[0]].shape[3]):
            return False  # groups
        whole = n % 8 == 0 if tuple(w.shape[1:3]) == (1, 1) else n <= GATHER_BYTES
    else:
        whole = n % 8 == 0 and int(o["filter_offset"]) == 0
    s = np.asarray(o["out_shift"], np.int64)
    return whole and out_c % GROUP == 0 and n > 0 and int(s.min()) >= -31 and int(s.max()) <= 31


def neon_filters(model: Any, board: Any) -> dict[int, np.ndarray]:
    """The packed filters of ``model``'s layers on ``board`` (op index -> int8 array): the layers
    takes_packed accepts, on AArch64 boards only."""
    if not aarch64(board):
        return {}
    return {i: packed_filter(model.tensors[op.inputs[1]].data) for i, op in enumerate(model.ops)
            if takes_packed(model, op)}


def aarch64(board: Any) -> bool:
    """True for a board whose compiler targets AArch64 (the kernel needs its 32 vector registers)."""
    return "neon" in board.features and "aarch64" in board.cc


def layer_records(L: Any, packed: dict[int, np.ndarray]) -> np.ndarray | None:
    """gemm_records for a conv2d or fully_connected template's layer ``L`` (codegen.generate.Layer)
    that has a packed filter (``packed``: neon_filters), else None."""
    if L.idx not in packed:
        return None
    fb = constant_filter_bias(L)
    if fb is None:
        return None
    out_c = int(fb[0].shape[0])
    m = np.broadcast_to(np.asarray(L.o["out_multiplier"], np.int64).reshape(-1), (out_c,))
    s = np.broadcast_to(np.asarray(L.o["out_shift"], np.int64).reshape(-1), (out_c,))
    return gemm_records(*fb, int(L.o["input_offset"]), m, s)
