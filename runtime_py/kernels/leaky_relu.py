"""leaky_relu int8 kernel (TFLM reference_ops::QuantizeLeakyRelu), through a cached 256-entry table."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape

TRAITS = KernelTraits(overlap="elementwise", inputs=("input",))


def table(o: dict) -> np.ndarray:
    """Output for every int8 input value (index value + 128)."""
    return _table(int(o["input_zero_point"]), int(o["output_zero_point"]), int(o["output_multiplier_alpha"]),
                  int(o["output_shift_alpha"]), int(o["output_multiplier_identity"]), int(o["output_shift_identity"]))


@lru_cache(maxsize=256)
def _table(input_zp: int, output_zp: int, mult_alpha: int, shift_alpha: int, mult_identity: int,
           shift_identity: int) -> np.ndarray:
    x = np.arange(-128, 128, dtype=np.int64) - input_zp
    identity = multiply_by_quantized_multiplier(x, mult_identity, shift_identity)
    # A negative alpha: multiply by |multiplier|, then negate (TFLM's safe_alpha_multiplier).
    scaled_alpha = multiply_by_quantized_multiplier(x, abs(mult_alpha), shift_alpha)
    if mult_alpha < 0:
        scaled_alpha = -scaled_alpha
    # int32 addition (wraps like the C kernel; only reachable with absurd scale ratios, >= 2**23).
    y = wrap_int32(output_zp + np.where(x >= 0, identity, scaled_alpha))
    y = np.clip(y, -128, 127).astype(np.int8)
    y.setflags(write=False)
    return y


def run(op, model, ins, outs, scratch) -> None:
    x = np.asarray(ins[0])
    outs[0][...] = table(op.options)[x.astype(np.int16) + 128]


check = check_same_shape  # elementwise: the output has the input's shape
