"""tanh int8 kernel (TFLM reference_integer_ops::Tanh), through a cached 256-entry table per parameter set."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from edgenn.runtime_py.fixedpoint import (INT32_MAX, exp_on_negative_values, multiply_by_quantized_multiplier,
                                          rescale, rounding_divide_by_pot, rounding_half_sum,
                                          saturating_rounding_doubling_high_mul, wrap_int32)
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape

TRAITS = KernelTraits(overlap="elementwise", inputs=("input",))

INPUT_INTEGER_BITS = 4
OUTPUT_FRACTIONAL_BITS = 7  # output scale 1/128


def one_minus_x_over_one_plus_x_for_x_in_0_1(a):
    """gemmlowp: (1 - a) / (1 + a) for a in [0, 1], Q0.31 in and out (Newton-Raphson, three steps)."""
    srdhm = saturating_rounding_doubling_high_mul
    half_denominator = rounding_half_sum(a, INT32_MAX)
    constant_48_over_17 = 1515870810  # Q2.29
    constant_neg_32_over_17 = -1010580540  # Q2.29
    one_q2 = 1 << 29
    x = wrap_int32(constant_48_over_17 + srdhm(half_denominator, constant_neg_32_over_17))
    for _ in range(3):
        one_minus = wrap_int32(one_q2 - srdhm(half_denominator, x))
        x = wrap_int32(x + rescale(srdhm(x, one_minus), 4, 2))
    return rescale(wrap_int32(x - one_q2), 2, 0)  # Rescale<0>(x - F2::One())


def tanh_fixed(a, integer_bits: int):
    """gemmlowp tanh(FixedPoint<int32, integer_bits>) in Q0.31: -tanh(-|a|) through exp(2 * -|a|)."""
    a = np.asarray(a, dtype=np.int64)
    negative = a < 0
    n = np.where(negative, a, wrap_int32(-a))
    # neg_tanh_on_negative_values: ExactMulByPot<1> reinterprets the raw value with one more integer bit.
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1))
    return np.where(a == 0, 0, np.where(negative, wrap_int32(-t), t))


def table(o: dict) -> np.ndarray:
    """Output for every int8 input value (index value + 128)."""
    return _table(int(o["input_zero_point"]), int(o["input_range_radius"]), int(o["input_multiplier"]),
                  int(o["input_left_shift"]))


@lru_cache(maxsize=256)
def _table(zero_point: int, radius: int, multiplier: int, left_shift: int) -> np.ndarray:
    v = np.arange(-128, 128, dtype=np.int64) - zero_point
    inside = (v > -radius) & (v < radius)
    q4 = multiply_by_quantized_multiplier(np.where(inside, v, 0), multiplier, left_shift)
    q0 = tanh_fixed(q4, INPUT_INTEGER_BITS)
    y = np.clip(rounding_divide_by_pot(q0, 31 - OUTPUT_FRACTIONAL_BITS), -128, 127)
    # TFLM tests x <= -radius first: with radius 0 the zero point itself maps to -128.
    y = np.where(v <= -radius, -128, np.where(v >= radius, 127, y)).astype(np.int8)
    y.setflags(write=False)
    return y


def run(op, model, ins, outs, scratch) -> None:
    x = np.asarray(ins[0])
    outs[0][...] = table(op.options)[x.astype(np.int16) + 128]


check = check_same_shape  # elementwise: the output has the input's shape
