"""compare kernel: TFLM's int8 EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL
(reference_ops::ComparisonWithScaling / BroadcastComparison4DSlowWithScaling), with broadcasting.

Each input is rescaled, ((x + offset) << left_shift) * multiplier, and the two int32 values are
compared; the output is bool. A function of the two int8 values alone: tabulated (256 x 256).
"""
from __future__ import annotations

import numpy as np

from edgenn.format.schema.fb.CompareKind import CompareKind
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import binary_run, option_table, scaled_inputs

TRAITS = KernelTraits(overlap="elementwise", inputs=("input1", "input2"))

COMPARISONS = {CompareKind.EQUAL: np.equal, CompareKind.NOT_EQUAL: np.not_equal, CompareKind.LESS: np.less,
               CompareKind.LESS_EQUAL: np.less_equal, CompareKind.GREATER: np.greater,
               CompareKind.GREATER_EQUAL: np.greater_equal}
_KEYS = ("kind", "left_shift", "input1_offset", "input1_multiplier", "input1_shift", "input2_offset",
         "input2_multiplier", "input2_shift")


@option_table(_KEYS)
def table(o) -> np.ndarray:
    """All 65536 results (bool), indexed [(x1 + 128) * 256 + (x2 + 128)] (read-only)."""
    if o["kind"] not in COMPARISONS:
        raise ValueError(f"compare: unknown kind {o['kind']}")
    s1, s2 = scaled_inputs(o)
    return COMPARISONS[o["kind"]](s1[:, None], s2[None, :]).reshape(-1)


def run(op, model, ins, outs, scratch) -> None:
    binary_run(op, model, ins, outs, table(op.options))


check = check_broadcast  # every input broadcasts to the output's shape
