"""The arithmetic contract, in numpy: TFLM's int8 requantization, bit for bit.

Everything here mirrors ``templates/kernels/edgenn_fixedpoint.h`` line for line in meaning and
is tested against it and against an arbitrary-precision definition (tests/test_fixedpoint.py).
All functions take and return int64 numpy arrays (or Python ints) holding int32 values; C's
int32 wrap-around and truncating division are reproduced explicitly.
"""
from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Q31 multiplier and shift for a real multiplier (TFLite QuantizeMultiplier).

    real == m * 2**(shift - 31) up to rounding; shift > 0 means a left shift.
    """
    real = float(real)
    if real == 0.0:
        return 0, 0
    if not math.isfinite(real) or real < 0:
        raise ValueError(f"multiplier must be finite and non-negative, got {real}")
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def round_half_away(x: float) -> int:
    """C's round(): halves away from zero (Python's round() is half-to-even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def wrap_int32(x):
    """Two's complement wrap of int64 values to int32 (C's conversion on every supported target)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def saturating_rounding_doubling_high_mul(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values: round(a*b / 2**31), halves away."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    # C's int64 division truncates toward zero; numpy's // floors.
    q = np.where(s >= 0, s >> 31, -((-s) >> 31))
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, INT32_MAX, q)


def rounding_divide_by_pot(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2**exponent rounded to nearest, halves away from zero."""
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """TFLM MultiplyByQuantizedMultiplier (double rounding): x * m * 2**(shift - 31)."""
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = wrap_int32(np.asarray(x, dtype=np.int64) << left)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right)


def requantize_to_int8(acc, multiplier, shift, output_offset: int, act_min: int, act_max: int) -> np.ndarray:
    """The common tail of conv / fully connected: scale, add the output zero point, clamp."""
    y = multiply_by_quantized_multiplier(acc, multiplier, shift) + output_offset
    return np.clip(y, act_min, act_max).astype(np.int8)


def quantize_multiplier_smaller_than_one_exp(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplierSmallerThanOneExp: like quantize_multiplier, shift <= 0."""
    if not 0.0 < real < 1.0:
        raise ValueError(f"multiplier must be in (0, 1), got {real}")
    m, s = quantize_multiplier(real)
    if s > 0:
        raise ValueError(f"multiplier {real} gives a left shift")
    return m, s


def activation_range(act_lo: float | None, act_hi: float | None, scale: float, zero_point: int) -> tuple[int, int]:
    """int8 clamp bounds of a fused activation (TFLite CalculateActivationRangeQuantized)."""
    lo, hi = -128, 127

    def q(f: float) -> int:
        # TFLite divides in float32 before rounding; do the same for identical bounds.
        return int(zero_point) + round_half_away(float(np.float32(f) / np.float32(scale)))

    if act_lo is not None:
        lo = max(lo, q(act_lo))
    if act_hi is not None:
        hi = min(hi, q(act_hi))
    return int(lo), int(min(max(hi, lo), 127))
