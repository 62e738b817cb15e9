"""logistic int8 kernel (TFLM reference_integer_ops::Logistic), through a cached 256-entry table per parameter set."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from edgenn.runtime_py.fixedpoint import logistic_fixed, multiply_by_quantized_multiplier, rounding_divide_by_pot
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape

TRAITS = KernelTraits(overlap="elementwise", inputs=("input",))

INPUT_INTEGER_BITS = 4
OUTPUT_INTEGER_BITS = 8


def table(o: dict) -> np.ndarray:
    """Output for every int8 input value (index value + 128)."""
    return _table(int(o["input_zero_point"]), int(o["input_range_radius"]), int(o["input_multiplier"]),
                  int(o["input_left_shift"]))


@lru_cache(maxsize=256)
def _table(zero_point: int, radius: int, multiplier: int, left_shift: int) -> np.ndarray:
    v = np.arange(-128, 128, dtype=np.int64) - zero_point
    inside = (v > -radius) & (v < radius)
    q4 = multiply_by_quantized_multiplier(np.where(inside, v, 0), multiplier, left_shift)
    q0 = logistic_fixed(q4, INPUT_INTEGER_BITS)
    y = np.clip(rounding_divide_by_pot(q0, 31 - OUTPUT_INTEGER_BITS) - 128, -128, 127)
    # TFLM tests x <= -radius first: with radius 0 the zero point itself maps to -128.
    y = np.where(v <= -radius, -128, np.where(v >= radius, 127, y)).astype(np.int8)
    y.setflags(write=False)
    return y


def run(op, model, ins, outs, scratch) -> None:
    x = np.asarray(ins[0])
    outs[0][...] = table(op.options)[x.astype(np.int16) + 128]


check = check_same_shape  # elementwise: the output has the input's shape
