"""add int8 kernel (TFLM reference_integer_ops::Add / BroadcastAdd6DSlow), with broadcasting.

TFLM's broadcast path applies the same per-element function as the elementwise path, so the
result is a function of the two int8 values alone: it is tabulated (256 x 256, cached per parameter set)
and looked up with numpy broadcasting.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import lookup, operand

TRAITS = KernelTraits(overlap="elementwise", inputs=("input1", "input2"))

_V = np.arange(-128, 128, dtype=np.int64)


def scaled_input(values, offset: int, left_shift: int, multiplier: int, shift: int) -> np.ndarray:
    """TFLM AddFunc's per-input stage: ((x + offset) << left_shift) * M_i, rounded (shift <= 0)."""
    shifted = wrap_int32((np.asarray(values, np.int64) + offset) * (1 << left_shift))
    return multiply_by_quantized_multiplier(shifted, multiplier, shift)


_KEYS = ("left_shift", "input1_offset", "input1_multiplier", "input1_shift", "input2_offset", "input2_multiplier",
         "input2_shift", "output_offset", "output_multiplier", "output_shift", "act_min", "act_max")


def table(o) -> np.ndarray:
    """All 65536 results of TFLM AddFunc, indexed [(x1 + 128) * 256 + (x2 + 128)] (read-only)."""
    return _table(tuple(int(o[k]) for k in _KEYS))


@lru_cache(maxsize=256)
def _table(key: tuple[int, ...]) -> np.ndarray:
    o = dict(zip(_KEYS, key))
    s1 = scaled_input(_V, o["input1_offset"], o["left_shift"], o["input1_multiplier"], o["input1_shift"])
    s2 = scaled_input(_V, o["input2_offset"], o["left_shift"], o["input2_multiplier"], o["input2_shift"])
    raw = wrap_int32(s1[:, None] + s2[None, :])
    y = multiply_by_quantized_multiplier(raw, o["output_multiplier"], o["output_shift"]) + o["output_offset"]
    t = np.clip(y, o["act_min"], o["act_max"]).astype(np.int8).reshape(-1)
    t.flags.writeable = False
    return t


def run(op, model, ins, outs, scratch) -> None:
    rank = len(model.tensors[op.outputs[0]].shape)
    a = operand(model, op, ins, 0, rank)
    b = operand(model, op, ins, 1, rank)
    outs[0][...] = lookup(table(op.options), a, b)
