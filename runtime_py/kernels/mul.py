"""mul int8 kernel (TFLM reference_integer_ops::Mul / BroadcastMul6DSlow), with broadcasting.

The result depends only on the two int8 values, so it is tabulated (256 x 256, cached per parameter set).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import binary_run

TRAITS = KernelTraits(overlap="elementwise", inputs=("input1", "input2"))

_V = np.arange(-128, 128, dtype=np.int64)
_KEYS = ("input1_offset", "input2_offset", "output_offset", "output_multiplier", "output_shift", "act_min", "act_max")


def table(o) -> np.ndarray:
    """All 65536 results of TFLM's int8 Mul, indexed [(x1 + 128) * 256 + (x2 + 128)] (read-only)."""
    return _table(tuple(int(o[k]) for k in _KEYS))


@lru_cache(maxsize=256)
def _table(key: tuple[int, ...]) -> np.ndarray:
    o = dict(zip(_KEYS, key))
    prod = wrap_int32((_V[:, None] + o["input1_offset"]) * (_V[None, :] + o["input2_offset"]))
    y = multiply_by_quantized_multiplier(prod, o["output_multiplier"], o["output_shift"]) + o["output_offset"]
    t = np.clip(y, o["act_min"], o["act_max"]).astype(np.int8).reshape(-1)
    t.flags.writeable = False
    return t


def run(op, model, ins, outs, scratch) -> None:
    binary_run(op, model, ins, outs, table(op.options))
