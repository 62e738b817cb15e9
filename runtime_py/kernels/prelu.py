"""prelu int8 kernel (TFLM reference_ops::BroadcastPrelu4DSlow), with broadcasting of alpha.

With x = input + input_offset: x >= 0 gives requant(x, multiplier 1), else requant(x * (alpha +
alpha_offset), multiplier 2); plus the output offset, clamped. A function of the two int8 values
alone: tabulated (256 x 256, cached per parameter set).
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import INT8_VALUES, binary_run, option_table

TRAITS = KernelTraits(overlap="elementwise", inputs=("input", "alpha"))

_KEYS = ("input_offset", "alpha_offset", "output_offset", "identity_multiplier", "identity_shift",
         "alpha_multiplier", "alpha_shift")


@option_table(_KEYS)
def table(o) -> np.ndarray:
    """All 65536 results, indexed [(x + 128) * 256 + (alpha + 128)] (read-only)."""
    x = (INT8_VALUES + o["input_offset"])[:, None]
    alpha = (INT8_VALUES + o["alpha_offset"])[None, :]
    pos = multiply_by_quantized_multiplier(x, o["identity_multiplier"], o["identity_shift"])
    neg = multiply_by_quantized_multiplier(wrap_int32(x * alpha), o["alpha_multiplier"], o["alpha_shift"])
    y = np.where(x >= 0, np.broadcast_to(pos, neg.shape), neg) + o["output_offset"]
    return np.clip(y, -128, 127).astype(np.int8).reshape(-1)


def run(op, model, ins, outs, scratch) -> None:
    binary_run(op, model, ins, outs, table(op.options))


check = check_broadcast  # every input broadcasts to the output's shape
