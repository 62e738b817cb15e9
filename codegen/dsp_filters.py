"""Conv2d and fully_connected filters pre-extended for the Cortex-M DSP builds' inner loops.

The DSP build of kernels/conv2d.c computes two output channels of two pixels at a time with SMLAD
on int16 pairs. From int8 filters every weight word costs a load and two SXTB16 per step
(conv2d_pairs_asm, 16 instructions per 16 MACs); from filters stored already as int16 pairs it
costs one LDRD (conv2d_pairs16_asm, 12), and each pair's bias and requantization constants sit in
the same stream. kernels/fully_connected.c likewise (fc_dot4_wx: 13 instructions per 16 MACs
against 22). That is flash for speed: such a layer's filter is stored three times over (the int8
filter stays, for every other path and the weights' CRC), so ``--optimize speed`` (the default)
pre-extends only on microcontrollers with the DSP extension (not Helium, whose kernels differ),
and only as many layers as fit, with the model's weights, in half the board's flash (those with
the most output pixels first). The counts are instructions: that twice the weight bytes are read
from flash, with its wait states on a real board, is not in them. The kernel takes the
pre-extended filter only where it takes the loops above (conditions mirrored below); a layer
whose conditions the kernel judges otherwise still has its int8 filter, so a mismatch costs
flash, never a wrong result.
"""
from __future__ import annotations

import numpy as np

from edgenn.boards import Board
from edgenn.format import enn
from edgenn.format.enn import EnnModel, EnnOp

#: kernels/conv2d.c's CONV2D_EXT (words of the pair buffer) and DSP CONV2D_GATHER (bytes), and
#: kernels/fully_connected.c's FC_EXT (values of an input row extended at once).
PAIR_BUFFER_WORDS = 576
GATHER_BYTES = 128
FC_EXT = 1024


def board_takes_pair_filters(board: Board) -> bool:
    """Whether ``board``'s build runs conv2d_pairs16_asm: a microcontroller with the DSP extension
    and no Helium, optimized for speed (the pair loops are left out at -Os)."""
    return (board.kind == "baremetal" and "dsp" in board.features and "mve" not in board.features
            and board.opt not in ("-Os", "-Oz", "-O0"))


def _rq_fast(multipliers: np.ndarray, shifts: np.ndarray) -> bool:
    """kernels' enn_rq_layer_ok: every nonzero multiplier >= 2^30 with a shift in [-31, -1]."""
    m = np.asarray(multipliers, np.int64)
    s = np.asarray(shifts, np.int64)
    ok = (m == 0) | ((m >= 1 << 30) & (s >= -31) & (s <= -1))
    return bool(np.all(ok))


def pair_length(model: EnnModel, op: EnnOp) -> int | None:
    """The padded column length (a multiple of eight) with which the DSP conv2d kernel would run
    ``op`` through its filter-pair asm, or None where it would not."""
    if op.type != "conv2d" or len(op.inputs) < 3 or op.inputs[2] < 0:
        return None
    x, w = model.tensors[op.inputs[0]], model.tensors[op.inputs[1]]
    if w.is_encoded or w.dtype != "int8":
        return None
    o = enn.complete_options(op)
    co, kh, kw, ci = (int(d) for d in w.shape)
    in_c = int(x.shape[3])
    if in_c != ci or co % 2 or co < 2 or int(o["act_min"]) != -128 or int(o["act_max"]) != 127:
        return None
    if not _rq_fast(o["out_multiplier"], o["out_shift"]):
        return None
    size = kh * kw * ci
    pointwise = kh == 1 and kw == 1
    wide = not pointwise and in_c % 4 == 0 and size <= PAIR_BUFFER_WORDS
    gather = not pointwise and not wide and size <= GATHER_BYTES
    if pointwise:
        if ci % 4 or ci > PAIR_BUFFER_WORDS:
            return None
    elif not (wide or gather):
        return None
    n8 = ((ci if pointwise else size) + 7) & ~7
    return n8 if n8 <= PAIR_BUFFER_WORDS else None


def fc_length(model: EnnModel, op: EnnOp) -> int | None:
    """The units (a multiple of four) whose weights the DSP fully_connected kernel would read
    pre-extended (fc_dot4_wx: symmetric weights, rows of whole fours of at most FC_EXT values),
    or None."""
    if op.type != "fully_connected":
        return None
    w = model.tensors[op.inputs[1]]
    if w.is_encoded or w.dtype != "int8" or int(enn.complete_options(op)["filter_offset"]) != 0:
        return None
    units, depth = int(w.shape[0]), int(np.prod(w.shape[1:]))
    if depth % 4 or depth > FC_EXT or units < 4:
        return None
    return units & ~3


def fc_words(filt: np.ndarray, units: int) -> np.ndarray:
    """The first ``units`` (a multiple of four) rows of ``filt`` [units][depth] as fc_dot4_wx reads
    them: per four units and step of four values, each unit's (v0, v2), (v1, v3) in turn."""
    rows = filt.reshape(filt.shape[0], -1)[:units].astype(np.int64)
    g = rows.reshape(units // 4, 4, -1, 4)                     # group, unit, step, value
    lo = g[..., [0, 1]] & 0xFFFF
    hi = (g[..., [2, 3]] & 0xFFFF) << 16
    return (lo | hi).transpose(0, 2, 1, 3).reshape(-1).astype(np.uint32)


def pair_words(filt: np.ndarray, n8: int) -> np.ndarray:
    """``filt`` [co][...] (int8, co even) as conv2d_pairs16_asm reads its weights: per pair of
    filters (A, B) and group of four values v0..v3 (zero-padded to n8), the words A (v0, v2),
    A (v1, v3), B (v0, v2), B (v1, v3), each the first value in its low half. Shape [pairs][n8]."""
    co = filt.shape[0]
    flat = np.zeros((co, n8), np.int64)
    flat[:, :filt[0].size] = filt.reshape(co, -1)
    g = flat.reshape(co // 2, 2, n8 // 4, 4)                  # pair, filter, group, value
    lo = g[..., [0, 1]] & 0xFFFF                              # v0, v1
    hi = (g[..., [2, 3]] & 0xFFFF) << 16                       # v2, v3
    words = (lo | hi).transpose(0, 2, 1, 3)                   # pair, group, filter, (even, odd)
    return words.reshape(co // 2, n8).astype(np.uint32)


def rshifts(multipliers: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """The kernels' per-channel right shift minus one (enn_rq8's t): clamp(-shift, 1, 31) - 1, and
    31 for a zero multiplier (as the op templates' _rsh tables)."""
    m = np.asarray(multipliers, np.int64)
    t = np.clip(-np.asarray(shifts, np.int64), 1, 31) - 1
    return np.where(m == 0, 31, t)


def pair_stream(filt: np.ndarray, n8: int, bias: np.ndarray, multipliers: np.ndarray,
                shifts: np.ndarray) -> np.ndarray:
    """What conv2d_pairs16_asm reads, per pair of filters A, B: their biases, their weights
    (pair_words), their multipliers doubled (SMMLAR's operand, as uint32) and their right shifts
    (rshifts). uint32 words, [pairs][2 + n8 + 4] flattened."""
    co = filt.shape[0]
    m = np.broadcast_to(np.asarray(multipliers, np.int64), (co,))
    t = np.broadcast_to(rshifts(multipliers, shifts), (co,))
    head = np.asarray(bias, np.int64).reshape(co // 2, 2) & 0xFFFFFFFF
    tail = np.concatenate([(m.reshape(co // 2, 2) << 1) & 0xFFFFFFFF, t.reshape(co // 2, 2)], axis=1)
    return np.concatenate([head, pair_words(filt, n8).astype(np.int64), tail], axis=1).reshape(-1).astype(np.uint32)


def pair_filters(model: EnnModel, board: Board) -> dict[int, np.ndarray]:
    """The pre-extended filters of ``model``'s layers on ``board`` (op index -> words: conv2d's
    pair_stream, fully_connected's fc_words): none when the board does not take them; else the
    layers' in the order of what they save per byte (a filter's words serve every output pixel or
    row: the more of them, the more each byte saves) while the model's weights and they fit in
    half of the board's flash."""
    if not board_takes_pair_filters(board):
        return {}
    budget = board.flash_bytes // 2 - sum(t.stored_nbytes for t in model.tensors if t.is_const)
    chosen: dict[int, np.ndarray] = {}
    candidates = []
    for i, op in enumerate(model.ops):
        n8, units = pair_length(model, op), fc_length(model, op)
        if n8 is None and units is None:
            continue
        filt = model.tensors[op.inputs[1]]
        if n8 is not None:
            co = int(filt.shape[0])
            # An int16 per value, 3 words of bias and requantization per filter.
            candidates.append((i, 2 * n8 * co + 12 * co))
        elif units is not None:
            candidates.append((i, 2 * units * int(np.prod(filt.shape[1:]))))
    for i, cost in sorted(candidates, key=lambda c: (-_pixels(model, model.ops[c[0]]), c[0])):
        if cost > budget:
            continue
        op = model.ops[i]
        filt = model.tensors[op.inputs[1]]
        if op.type == "fully_connected":
            chosen[i] = fc_words(filt.data, fc_length(model, op))
        else:
            o = enn.complete_options(op)
            chosen[i] = pair_stream(filt.data, pair_length(model, op), model.tensors[op.inputs[2]].data,
                                    o["out_multiplier"], o["out_shift"])
        budget -= cost
    return dict(sorted(chosen.items()))


def _pixels(model: EnnModel, op: EnnOp) -> int:
    """Output pixels of a conv2d (batches included), rows of a fully_connected."""
    out = model.tensors[op.outputs[0]]
    if op.type == "fully_connected":
        return int(np.prod(out.shape)) // int(model.tensors[op.inputs[1]].shape[0])
    n, h, w = (int(d) for d in out.shape[:3])
    return n * h * w
