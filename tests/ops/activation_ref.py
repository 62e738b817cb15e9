"""Naive pure-Python-int transliterations of TFLM's int8 tanh, leaky ReLU and hard swish.

Scalar code written straight from TFLM (commit 90b983c) reference_integer_ops::Tanh,
reference_ops::QuantizeLeakyRelu, reference_ops::HardSwish<int8_t>, their Prepare functions
(tanh.cc, leaky_relu_common.cc, hard_swish_common.cc) and gemmlowp's fixedpoint.h, independently
of the vectorized numpy kernels in edgenn.runtime_py.kernels. The int32 gemmlowp primitives come
from softmax_ref (the same kind of transliteration); the int16 ones are here.
"""
from __future__ import annotations

import math

import numpy as np

from softmax_ref import I32_MAX, c_div, exp_neg, mbqm, quantize_multiplier, rdbp, rounding_half_sum, sat_mul_pot, \
    srdhm, wrap

I16_MIN, I16_MAX = -(1 << 15), (1 << 15) - 1


def wrap16(x: int) -> int:
    return ((x + (1 << 15)) % (1 << 16)) - (1 << 15)


# ----------------------------------------------------------------------------- tanh

def one_minus_x_over_one_plus_x(a: int) -> int:
    half_den = rounding_half_sum(a, I32_MAX)
    x = wrap(1515870810 + srdhm(half_den, -1010580540))
    for _ in range(3):
        hdx = srdhm(half_den, x)
        one_minus = wrap((1 << 29) - hdx)
        x = wrap(x + sat_mul_pot(srdhm(x, one_minus), 2))
    return sat_mul_pot(wrap(x - (1 << 29)), 2)


def tanh_fp(a: int, integer_bits: int) -> int:
    """gemmlowp tanh(FixedPoint<int32, integer_bits>) raw Q0.31."""
    negative = a < 0
    n = a if negative else wrap(-a)
    t = one_minus_x_over_one_plus_x(exp_neg(n, integer_bits + 1))
    if a == 0:
        return 0
    return wrap(-t) if negative else t


def tanh_params(input_scale: float, input_zp: int) -> tuple[int, int, int, int]:
    q, shift = math.frexp(float(input_scale) * float(1 << 27))
    mult = int(math.floor(q * (1 << 31) + 0.5))
    radius = math.floor(15.0 * (1 << 27) / (1 << shift))
    return input_zp, radius, mult, shift


def tanh_value(v: int, zp: int, radius: int, mult: int, shift: int) -> int:
    x = v - zp
    if x <= -radius:
        return -128
    if x >= radius:
        return 127
    q4 = mbqm(x, mult, shift)
    q0 = tanh_fp(q4, 4)
    return max(-128, min(127, rdbp(q0, 24)))


# ----------------------------------------------------------------------------- leaky ReLU

def leaky_relu_params(in_scale: float, in_zp: int, out_scale: float, out_zp: int, alpha: float):
    f = np.float32
    alpha_multiplier = float(f(f(in_scale) * f(alpha)) / f(out_scale))
    identity_multiplier = float(f(in_scale) / f(out_scale))
    ma, sa = quantize_multiplier_signed(alpha_multiplier)
    mi, si = quantize_multiplier_signed(identity_multiplier)
    return in_zp, out_zp, ma, sa, mi, si


def quantize_multiplier_signed(d: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier, which also takes negative multipliers (frexp keeps the sign)."""
    if d == 0.0:
        return 0, 0
    q, shift = math.frexp(d)
    qf = int(math.floor(q * (1 << 31) + 0.5)) if q >= 0 else -int(math.floor(-q * (1 << 31) + 0.5))
    assert qf <= 1 << 31
    if qf == 1 << 31:
        qf //= 2
        shift += 1
    assert qf <= I32_MAX
    if shift < -31:
        return 0, 0
    return qf, shift


def leaky_relu_value(v: int, in_zp: int, out_zp: int, ma: int, sa: int, mi: int, si: int) -> int:
    x = v - in_zp
    neg_alpha = ma < 0
    safe = -ma if neg_alpha else ma
    out = out_zp
    if x >= 0:
        out += mbqm(x, mi, si)
    else:
        s = mbqm(x, safe, sa)
        out += -s if neg_alpha else s
    return max(-128, min(127, out))


# ----------------------------------------------------------------------------- hard swish

def srdhm16(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul<int16_t>."""
    if a == b == I16_MIN:
        return I16_MAX
    ab = a * b
    nudge = (1 << 14) if ab >= 0 else 1 - (1 << 14)
    return wrap16(c_div(ab + nudge, 1 << 15))


def sdhm16(a: int, b: int) -> int:
    """TFLM reference_ops::SaturatingDoublingHighMul (truncating)."""
    if a == b == I16_MIN:
        return I16_MAX
    return wrap16(c_div(a * b, 1 << 15))


def rdbp16(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT<int16_t>: every intermediate is an int16 (the mask truncates)."""
    mask = wrap16((1 << exponent) - 1)
    remainder = wrap16(x & mask)
    threshold = wrap16((mask >> 1) + (1 if x < 0 else 0))
    return wrap16((x >> exponent) + (1 if remainder > threshold else 0))


def sat_left_shift16(v: int, amount: int) -> int:
    return max(I16_MIN, min(I16_MAX, v * (1 << amount)))


def downscale_to_int16(m32: int) -> int:
    if m32 >= I32_MAX - (1 << 15):
        return I16_MAX
    return (m32 + (1 << 15)) >> 16


def hard_swish_params(in_scale: float, in_zp: int, out_scale: float, out_zp: int):
    f = np.float32
    hires = f(f(1.0) / f(128.0)) * f(in_scale)
    reluish_scale = f(3.0) / f(32768.0)
    om, oe = quantize_multiplier(float(f(hires / f(out_scale))))
    rm, re = quantize_multiplier(float(f(hires / reluish_scale)))
    return in_zp, out_zp, downscale_to_int16(rm), re, downscale_to_int16(om), oe


def hard_swish_value(v: int, in_zp: int, out_zp: int, rm: int, re: int, om: int, oe: int) -> int:
    x = wrap16(v - in_zp)
    hires = wrap16(x * (1 << 7))
    preshift = srdhm16(hires, om)
    r = hires
    if re > 0:
        r = sat_left_shift16(r, re - 1)
    r = srdhm16(r, rm)
    if re > 0:
        r = sat_left_shift16(r, 1)
    if re < 0:
        r = rdbp16(r, -re)
    r = wrap16((r + (1 << 15)) >> 1)
    pre = sdhm16(r, preshift)
    out = rdbp16(pre, -oe)
    out = wrap16(out + out_zp)
    return max(-128, min(127, out))
