"""Conv2d filters pre-extended for the Cortex-M DSP build's filter-pair loop.

The DSP build of kernels/conv2d.c computes two output channels of two pixels at a time with SMLAD
on int16 pairs. From int8 filters every weight word costs a load and two SXTB16 per step
(conv2d_pairs_asm, 16 instructions per 16 MACs); from filters stored already as int16 pairs it
costs one LDRD (conv2d_pairs16_asm, 12). That is flash for speed: such a layer's filter is stored
three times over (the int8 filter stays, for every other path and the weights' CRC), so
``--optimize speed`` (the default) pre-extends only on microcontrollers with the DSP extension
(not Helium, whose kernels differ), and only as many layers as fit, with the model's weights, in
half the board's flash (those with the most output pixels first). The kernel takes the
pre-extended filter only where it takes the filter-pair asm (conditions mirrored below); a layer
whose conditions the kernel judges otherwise still has its int8 filter, so a mismatch costs
flash, never a wrong result.
"""
from __future__ import annotations

import numpy as np

from edgenn.boards import Board
from edgenn.format import enn
from edgenn.format.enn import EnnModel, EnnOp

#: kernels/conv2d.c's CONV2D_EXT (words of the pair buffer) and DSP CONV2D_GATHER (bytes).
PAIR_BUFFER_WORDS = 576
GATHER_BYTES = 128


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
    """The pre-extended filters of ``model``'s layers on ``board`` (op index -> pair_stream): none when
    the board does not take them; else the layers' in the order of what they save per byte (a
    filter's words serve every output pixel: the more pixels, the more each byte saves) while the
    model's weights and them fit in half of the board's flash."""
    if not board_takes_pair_filters(board):
        return {}
    budget = board.flash_bytes // 2 - sum(t.stored_nbytes for t in model.tensors if t.is_const)
    chosen: dict[int, np.ndarray] = {}
    candidates = [(i, n8) for i, op in enumerate(model.ops) if (n8 := pair_length(model, op)) is not None]
    for i, n8 in sorted(candidates, key=lambda c: (-_pixels(model, model.ops[c[0]]), c[0])):
        filt = model.tensors[model.ops[i].inputs[1]]
        co = int(filt.shape[0])
        cost = 2 * n8 * co + 12 * co  # bytes: an int16 per value, 3 words of bias and requantization per filter
        if cost <= budget:
            op = model.ops[i]
            o = enn.complete_options(op)
            chosen[i] = pair_stream(filt.data, n8, model.tensors[op.inputs[2]].data, o["out_multiplier"],
                                    o["out_shift"])
            budget -= cost
    return dict(sorted(chosen.items()))


def _pixels(model: EnnModel, op: EnnOp) -> int:
    """Output pixels of a conv2d (batches included)."""
    n, h, w = (int(d) for d in model.tensors[op.outputs[0]].shape[:3])
    return n * h * w
