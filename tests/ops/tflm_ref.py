"""Naive pure-Python-int transliterations of TFLM's arithmetic, the judges of the op tests.

Scalar, loop-based, written straight from gemmlowp fixedpoint/fixedpoint.h, TFLM's
quantization_util / kernel_util (QuantizeMultiplier, CalculateActivationRangeQuantized), the
requantization MultiplyByQuantizedMultiplier, reference_ops::Softmax, reference_integer_ops::Logistic
and Tanh, reference_ops::QuantizeLeakyRelu and HardSwish<int8_t> (TFLM commit 90b983c) and their
Prepare code, independently of the vectorized numpy code in edgenn.runtime_py.
"""
from __future__ import annotations

import math

import numpy as np

I32_MIN = -(1 << 31)
I32_MAX = (1 << 31) - 1


def wrap(x: int) -> int:
    """int32 two's complement wrap-around."""
    return ((x + (1 << 31)) % (1 << 32)) - (1 << 31)


def c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def srdhm(a: int, b: int) -> int:
    if a == b == I32_MIN:
        return I32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return c_div(ab + nudge, 1 << 31)


def rdbp(x: int, exponent: int) -> int:
    assert 0 <= exponent <= 31
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def mbqm(x: int, multiplier: int, shift: int) -> int:
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    return rdbp(srdhm(wrap(x * (1 << left)), multiplier), right)


def sat_mul_pot(x: int, exponent: int) -> int:
    if exponent == 0:
        return x
    if exponent < 0:
        return rdbp(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return I32_MAX
    if x < -threshold:
        return I32_MIN
    return x * (1 << exponent)


def rounding_half_sum(a: int, b: int) -> int:
    s = a + b
    return c_div(s + (1 if s >= 0 else -1), 2)


def exp_quarter(a: int) -> int:
    """exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31)."""
    constant_term = 1895147668
    constant_1_over_3 = 715827883
    x = wrap(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = sat_mul_pot(x4, -2)
    t = sat_mul_pot(wrap(srdhm(wrap(x4_over_4 + x3), constant_1_over_3) + x2), -1)
    return wrap(constant_term + srdhm(constant_term, wrap(x + t)))


def exp_neg(a: int, integer_bits: int) -> int:
    """exp_on_negative_values<int32, integer_bits> (result Q0.31)."""
    frac = 31 - integer_bits
    quarter = 1 << (frac - 2)
    a_mod = (a & (quarter - 1)) - quarter
    result = exp_quarter(sat_mul_pot(a_mod, integer_bits - 0))
    remainder = wrap(a_mod - a)
    for exponent, mult in ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                           (2, 39332535), (3, 720401), (4, 242)):
        if integer_bits > exponent:
            if remainder & (1 << (frac + exponent)):
                result = srdhm(result, mult)
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    if a == 0:
        result = I32_MAX
    return result


def one_over_one_plus_x(a: int) -> int:
    half_den = rounding_half_sum(a, I32_MAX)
    x = wrap(1515870810 + srdhm(half_den, -1010580540))
    for _ in range(3):
        hdx = srdhm(half_den, x)
        one_minus = wrap((1 << 29) - hdx)
        x = wrap(x + sat_mul_pot(srdhm(x, one_minus), 2))
    return sat_mul_pot(x, 1)


def logistic_fp(a: int, integer_bits: int) -> int:
    if a == 0:
        return 1 << 30
    abs_a = a if a > 0 else wrap(-a)
    pos = one_over_one_plus_x(exp_neg(wrap(-abs_a), integer_bits))
    return pos if a > 0 else wrap(I32_MAX - pos)


def clz32(x: int) -> int:
    x &= 0xFFFFFFFF
    n = 0
    if x == 0:
        return 32
    while not x & 0x80000000:
        x <<= 1
        n += 1
    return n


def get_reciprocal(x: int, integer_digits: int) -> tuple[int, int]:
    h = clz32(x)
    shifted = wrap(((x & 0xFFFFFFFF) << h) - (1 << 31))
    return one_over_one_plus_x(shifted), integer_digits - h


# ----------------------------------------------------------------------------- TFLM Prepare

def quantize_multiplier(d: float) -> tuple[int, int]:
    """quantization_util.cc QuantizeMultiplier (TfLiteRound: halves away from zero)."""
    if d == 0.0:
        return 0, 0
    q, shift = math.frexp(d)
    t = q * (1 << 31)
    qf = int(math.floor(t + 0.5)) if t >= 0 else -int(math.floor(-t + 0.5))
    if qf == 1 << 31:
        qf //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return qf, shift


def activation_range(act, scale: float, zp: int) -> tuple[int, int]:
    """kernel_util.cc CalculateActivationRangeQuantized for the fused activations (lo, hi)."""
    def q(f):
        v = float(np.float32(f) / np.float32(scale))
        return zp + (int(math.floor(v + 0.5)) if v >= 0 else -int(math.floor(-v + 0.5)))
    lo, hi = act
    act_min = -128 if lo is None else max(-128, q(lo))
    act_max = 127 if hi is None else min(127, q(hi))
    return act_min, act_max


def softmax_params(input_scale: float, beta: float) -> tuple[int, int, int]:
    real = min(float(beta) * float(input_scale) * float(1 << 26), float((1 << 31) - 1))
    assert real > 1.0
    mult, shift = quantize_multiplier(real)
    radius = math.floor(31.0 * (1 << 26) / (1 << shift))
    return mult, shift, -radius


def logistic_params(input_scale: float, input_zp: int) -> tuple[int, int, int, int]:
    q, shift = math.frexp(float(input_scale) * float(1 << 27))
    mult = int(math.floor(q * (1 << 31) + 0.5))
    radius = math.floor(15.0 * (1 << 27) / (1 << shift)) if shift >= 0 else math.floor(15.0 * (1 << 27) * 2.0 ** -shift)
    return input_zp, radius, mult, shift


# ----------------------------------------------------------------------------- TFLM kernels

class TflmAbort(Exception):
    """TFLM would abort() here (a failing TFLITE_CHECK)."""


def softmax_row(row: list[int], mult: int, shift: int, diff_min: int) -> list[int]:
    """reference_ops::Softmax<int8_t, int8_t> for one row."""
    mx = max(row)
    total = 0
    for v in row:
        d = v - mx
        if d >= diff_min:
            total = wrap(total + sat_mul_pot(exp_neg(srdhm(d * (1 << shift), mult), 5), -12))
    scale, bits = get_reciprocal(total, 12)
    exponent = bits + 31 - 8
    if not 0 <= exponent <= 31:
        raise TflmAbort(f"TFLITE_CHECK(0 <= exponent && exponent <= 31) fails: exponent {exponent}")
    out = []
    for v in row:
        d = v - mx
        if d >= diff_min:
            e = exp_neg(srdhm(d * (1 << shift), mult), 5)
            o = rdbp(srdhm(scale, e), exponent) - 128
            out.append(max(-128, min(127, o)))
        else:
            out.append(-128)
    return out


def logistic_value(v: int, zp: int, radius: int, mult: int, shift: int) -> int:
    """reference_integer_ops::Logistic for one int8 value."""
    x = v - zp
    if x <= -radius:
        return -128
    if x >= radius:
        return 127
    q4 = mbqm(x, mult, shift)
    q0 = logistic_fp(q4, 4)
    o = rdbp(q0, 23) - 128
    return max(-128, min(127, o))


# ============================================================================= int16 gemmlowp, tanh, leaky ReLU, hard swish

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
    ma, sa = quantize_multiplier(alpha_multiplier)
    mi, si = quantize_multiplier(identity_multiplier)
    return in_zp, out_zp, ma, sa, mi, si


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


# ============================================================================= two-input arithmetic

def arith_scale(x: int, offset: int, left_shift: int, multiplier: int, shift: int) -> int:
    """TFLM's first stage of ADD / SUB / SQUARED_DIFFERENCE / comparisons (shift <= 0)."""
    return mbqm((x + offset) * (1 << left_shift), multiplier, shift)


def sub_params(s1: float, s2: float, so: float) -> tuple[int, int, int, int, int, int]:
    """sub_common.cc CalculateOpDataSub: float32 ratios widened to double."""
    f = np.float32
    twice_max = f(2) * max(f(s1), f(s2))
    m1 = quantize_multiplier(float(f(f(s1) / twice_max)))
    m2 = quantize_multiplier(float(f(f(s2) / twice_max)))
    mo = quantize_multiplier(float(f(twice_max / f(f(1 << 20) * f(so)))))
    return (*m1, *m2, *mo)


def sub_value(x1: int, x2: int, z1: int, z2: int, zo: int, params, act_min: int, act_max: int) -> int:
    m1, sh1, m2, sh2, mo, sho = params
    raw = arith_scale(x1, -z1, 20, m1, sh1) - arith_scale(x2, -z2, 20, m2, sh2)
    return min(act_max, max(act_min, mbqm(raw, mo, sho) + zo))


def squared_difference_value(x1: int, x2: int, s1: float, z1: int, s2: float, z2: int, so: float, zo: int) -> int:
    """squared_difference.cc PrepareQuantized + SquaredDifference<int8_t>, one element."""
    twice_max = 2.0 * max(float(np.float32(s1)), float(np.float32(s2)))
    m1, sh1 = quantize_multiplier(float(np.float32(s1)) / twice_max)
    m2, sh2 = quantize_multiplier(float(np.float32(s2)) / twice_max)
    mo, sho = quantize_multiplier(twice_max * twice_max / float(np.float32(1 << 14) * np.float32(so)))
    d = arith_scale(x1, -z1, 7, m1, sh1) - arith_scale(x2, -z2, 7, m2, sh2)
    return min(127, max(-128, mbqm(d * d, mo, sho) + zo))


def prelu_value(x: int, a: int, sx: float, zx: int, sa: float, za: int, so: float, zo: int) -> int:
    """prelu_common.cc CalculatePreluParams + BroadcastPrelu4DSlow's element function."""
    sx, sa, so = (float(np.float32(v)) for v in (sx, sa, so))
    v = x - zx
    if v >= 0:
        out = mbqm(v, *quantize_multiplier(sx / so))
    else:
        out = mbqm(v * (a - za), *quantize_multiplier(sx * sa / so))
    return min(127, max(-128, out + zo))


COMPARISONS = {"equal": lambda a, b: a == b, "not_equal": lambda a, b: a != b, "less": lambda a, b: a < b,
               "less_equal": lambda a, b: a <= b, "greater": lambda a, b: a > b,
               "greater_equal": lambda a, b: a >= b}


def compare_value(kind: str, x1: int, x2: int, s1: float, z1: int, s2: float, z2: int) -> bool:
    """comparisons.cc ComparisonsPrepare + ComparisonWithScaling, one element."""
    m1, sh1 = quantize_multiplier(float(np.float32(s1)))
    m2, sh2 = quantize_multiplier(float(np.float32(s2)))
    return COMPARISONS[kind](arith_scale(x1, -z1, 8, m1, sh1), arith_scale(x2, -z2, 8, m2, sh2))


def add_n_value(xs: list[int], s: float, z: int, so: float, zo: int) -> int:
    """add_n.cc CalculateOpData + reference_ops::AddN<int8_t>, one element (every input quantized
    (s, z)); the sum starts at the rescaled input offset, as TFLM's does."""
    s, so = float(np.float32(s)), float(np.float32(so))
    mi, shi = quantize_multiplier(s / (2 * s))
    mo, sho = quantize_multiplier(2 * s / ((1 << 20) * so))
    acc = arith_scale(0, -z, 20, mi, shi)  # TFLM: x = input1_offset (the value 0)
    for x in xs:
        acc += arith_scale(x, -z, 20, mi, shi)
    return min(127, max(-128, mbqm(acc, mo, sho) + zo))


def inv_sqrt_exp(x: int, reverse_shift: int = -1) -> tuple[int, int]:
    """GetInvSqrtQuantizedMultiplierExp (kernels/internal/common.h), line by line on Python ints."""
    if x <= 1:
        return (1 << 31) - 1, 0
    shift = 11
    while x >= (1 << 29):
        x = c_div(x, 4)
        shift += 1
    pairs = (clz32(x) - 1) // 2 - 1
    shift -= pairs
    x = wrap(x << (2 * pairs))
    fixed_input = x >> 1
    half_input = sat_mul_pot(fixed_input, -1)
    half_three = (1 << 28) + (1 << 27)
    v = 1 << 28
    for _ in range(5):
        x3 = sat_mul_pot(srdhm(srdhm(v, v), v), 6)
        v = sat_mul_pot(wrap(srdhm(half_three, v) - srdhm(half_input, x3)), 3)
    v = srdhm(v, 1518500250)
    if shift < 0:
        v = wrap(v << -shift)
        shift = 0
    return v, shift * reverse_shift


def l2_normalization_row(row: list[int], zp: int) -> list[int]:
    """reference_integer_ops::L2Normalization of one row."""
    acc = sum((v - zp) * (v - zp) for v in row)
    m, s = inv_sqrt_exp(acc, -1)
    return [max(-128, min(127, mbqm(v - zp, m, s + 7))) for v in row]


def clrsb32(x: int) -> int:
    """CountLeadingSignBits<int32_t> as gcc's __builtin_clrsb (31 for 0)."""
    return clz32(~x if x < 0 else x) - 1


def div_value(x1: int, x2: int, s1: float, z1: int, s2: float, z2: int, so: float, zo: int,
              act_min: int = -128, act_max: int = 127) -> int:
    """CalculateOpDataDiv + DivElementwise<int8_t> for one pair."""
    f = np.float32
    m, s = quantize_multiplier(float(f(s1)) / (float(f(s2)) * float(f(so))))  # in double, as the package
    v1, v2 = x1 - z1, x2 - z2
    if v2 < 0:
        v1, v2 = -v1, -v2
    inv, recip_shift = get_reciprocal(v2, 31)
    headroom = clrsb32(v1)
    unscaled = srdhm(wrap(v1 << headroom), inv)
    total = s - recip_shift - headroom
    # A right shift by 32 or more (dividends 0 and +-1) is undefined in gemmlowp's RoundingDivideByPOT:
    # TFLM's x86-64 build masks the 32-bit shift to 5 bits and its mask to all ones.
    x = srdhm(unscaled, m)
    q = rdbp(x, -total) if -total <= 31 else (x >> (-total - 32)) + (x >= 0)
    return max(act_min, min(act_max, q + zo))
