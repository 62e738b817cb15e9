"""hard_swish int8 kernel (TFLM reference_ops::HardSwish<int8_t>), through a cached 256-entry table.

TFLM computes on int16 values with gemmlowp's int16 primitives; they are mirrored here on int64
arrays holding int16 values, with C's int16 conversions made explicit (wrap16).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape

TRAITS = KernelTraits(overlap="elementwise", inputs=("input",))

I16_MIN, I16_MAX = -(1 << 15), (1 << 15) - 1


def wrap16(x):
    """Two's complement wrap of int64 values to int16 (C's conversion to int16_t)."""
    return ((np.asarray(x, dtype=np.int64) + (1 << 15)) & 0xFFFF) - (1 << 15)


def _trunc_div(x, d: int):
    """C's integer division by a positive d (truncates toward zero)."""
    x = np.asarray(x, dtype=np.int64)
    return np.where(x >= 0, x // d, -((-x) // d))


def srdhm16(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul<int16_t>: (a*b + nudge) / 2**15 truncated; nudge
    2**14 or 1 - 2**14; INT16_MIN squared saturates."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    r = wrap16(_trunc_div(ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14)), 1 << 15))
    return np.where((a == I16_MIN) & (b == I16_MIN), I16_MAX, r)


def sdhm16(a, b):
    """TFLM SaturatingDoublingHighMul<int16_t>: a*b / 2**15 truncated toward zero (no rounding)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    r = wrap16(_trunc_div(a * b, 1 << 15))
    return np.where((a == I16_MIN) & (b == I16_MIN), I16_MAX, r)


def rdbp16(x, exponent: int):
    """gemmlowp RoundingDivideByPOT<int16_t>. The mask (1 << exponent) - 1 is converted to int16,
    so for exponent >= 16 it is -1: the result is then 1 for x >= 0 and -1 for x < 0 (TFLM does
    this too: e.g. an output multiplier exponent of -16 maps an input at its zero point to 1 LSB)."""
    x = np.asarray(x, dtype=np.int64)
    mask = int(wrap16((1 << exponent) - 1))
    remainder = wrap16(x & mask)
    threshold = wrap16((mask >> 1) + (x < 0))
    return wrap16((x >> exponent) + (remainder > threshold))


def saturating_left_shift16(x, amount: int):
    return np.clip(np.asarray(x, dtype=np.int64) * (1 << amount), I16_MIN, I16_MAX)


def table(o: dict) -> np.ndarray:
    """Output for every int8 input value (index value + 128)."""
    return _table(int(o["input_zero_point"]), int(o["output_zero_point"]),
                  int(o["reluish_multiplier_fixedpoint_int16"]), int(o["reluish_multiplier_exponent"]),
                  int(o["output_multiplier_fixedpoint_int16"]), int(o["output_multiplier_exponent"]))


@lru_cache(maxsize=256)
def _table(input_zp: int, output_zp: int, reluish_mult: int, reluish_exp: int, output_mult: int,
           output_exp: int) -> np.ndarray:
    x = wrap16(np.arange(-128, 128, dtype=np.int64) - input_zp)
    hires = wrap16(x * (1 << 7))
    preshift = srdhm16(hires, output_mult)
    reluish = hires
    if reluish_exp > 0:
        reluish = saturating_left_shift16(reluish, reluish_exp - 1)
    reluish = srdhm16(reluish, reluish_mult)
    if reluish_exp > 0:
        reluish = saturating_left_shift16(reluish, 1)
    if reluish_exp < 0:
        reluish = rdbp16(reluish, -reluish_exp)
    reluish = (reluish + (1 << 15)) >> 1  # [-1, 1] -> [0, 1] in Q0.15
    out = rdbp16(sdhm16(reluish, preshift), -output_exp)
    out = wrap16(out + output_zp)
    y = np.clip(out, -128, 127).astype(np.int8)
    y.setflags(write=False)
    return y


def run(op, model, ins, outs, scratch) -> None:
    x = np.asarray(ins[0])
    outs[0][...] = table(op.options)[x.astype(np.int16) + 128]


check = check_same_shape  # elementwise: the output has the input's shape
