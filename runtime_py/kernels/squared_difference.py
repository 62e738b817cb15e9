"""squared_difference int8 kernel (TFLM squared_difference.cc, SquaredDifference<int8_t>), with broadcasting.

Both inputs are rescaled to a common fixed-point scale as in ADD (left shift 7), subtracted, the
difference squared in int32 and requantized (MultiplyByQuantizedMultiplier, which may shift left).
A function of the two int8 values alone: tabulated (256 x 256, cached per parameter set).
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import binary_run, option_table, scaled_inputs

TRAITS = KernelTraits(overlap="elementwise", inputs=("input1", "input2"))

_KEYS = ("left_shift", "input1_offset", "input1_multiplier", "input1_shift", "input2_offset", "input2_multiplier",
         "input2_shift", "output_offset", "output_multiplier", "output_shift")


@option_table(_KEYS)
def table(o) -> np.ndarray:
    """All 65536 results, indexed [(x1 + 128) * 256 + (x2 + 128)] (read-only)."""
    s1, s2 = scaled_inputs(o)
    diff = wrap_int32(s1[:, None] - s2[None, :])
    y = multiply_by_quantized_multiplier(wrap_int32(diff * diff), o["output_multiplier"], o["output_shift"])
    return np.clip(y + o["output_offset"], -128, 127).astype(np.int8).reshape(-1)


def run(op, model, ins, outs, scratch) -> None:
    binary_run(op, model, ins, outs, table(op.options))


check = check_broadcast  # every input broadcasts to the output's shape
