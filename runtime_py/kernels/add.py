"""add int8 kernel (TFLM reference_integer_ops::Add / BroadcastAdd6DSlow), with broadcasting.

TFLM's broadcast path applies the same per-element function as the elementwise path, so the
result is a function of the two int8 values alone: it is tabulated (256 x 256, cached per parameter set)
and looked up with numpy broadcasting.
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import addsub_table, binary_run

TRAITS = KernelTraits(overlap="elementwise", inputs=("input1", "input2"))


def table(o) -> np.ndarray:
    """All 65536 results of TFLM AddFunc, indexed [(x1 + 128) * 256 + (x2 + 128)] (read-only)."""
    return addsub_table(o, 1)


def run(op, model, ins, outs, scratch) -> None:
    binary_run(op, model, ins, outs, table(op.options))


check = check_broadcast  # every input broadcasts to the output's shape
