"""mul int8 kernel (TFLM reference_integer_ops::Mul / BroadcastMul6DSlow), with broadcasting.

The result depends only on the two int8 values, so it is tabulated (256 x 256, cached per parameter set).
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import INT8_VALUES, binary_run, option_table

TRAITS = KernelTraits(overlap="elementwise", inputs=("input1", "input2"))

_KEYS = ("input1_offset", "input2_offset", "output_offset", "output_multiplier", "output_shift", "act_min", "act_max")


@option_table(_KEYS)
def table(o) -> np.ndarray:
    """All 65536 results of TFLM's int8 Mul, indexed [(x1 + 128) * 256 + (x2 + 128)] (read-only)."""
    prod = wrap_int32((INT8_VALUES[:, None] + o["input1_offset"]) * (INT8_VALUES[None, :] + o["input2_offset"]))
    y = multiply_by_quantized_multiplier(prod, o["output_multiplier"], o["output_shift"]) + o["output_offset"]
    return np.clip(y, o["act_min"], o["act_max"]).astype(np.int8).reshape(-1)


def run(op, model, ins, outs, scratch) -> None:
    binary_run(op, model, ins, outs, table(op.options))


check = check_broadcast  # every input broadcasts to the output's shape
