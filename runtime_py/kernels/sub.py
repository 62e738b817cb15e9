"""sub int8 kernel (TFLM reference_ops::Sub / BroadcastQuantSubSlow for int8), with broadcasting.

TFLM's SubFunc is AddFunc with the rescaled second input subtracted: a function of the two int8
values alone, tabulated (256 x 256, cached per parameter set) like add's.
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import addsub_table, binary_run

TRAITS = KernelTraits(overlap="elementwise", inputs=("input1", "input2"))


def table(o) -> np.ndarray:
    """All 65536 results of TFLM's int8 Sub, indexed [(x1 + 128) * 256 + (x2 + 128)] (read-only)."""
    return addsub_table(o, -1)


def run(op, model, ins, outs, scratch) -> None:
    binary_run(op, model, ins, outs, table(op.options))


check = check_broadcast  # every input broadcasts to the output's shape
