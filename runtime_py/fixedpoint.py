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
    """gemmlowp SaturatingRoundingDoublingHighMul on int32: floor(a*b / 2**31 + 1/2) (halves round up,
    toward +inf, because of the negative nudge and truncating division); INT32_MIN**2 saturates."""
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
    # A bound outside the int8 range (an ONNX Clip whose minimum lies above the representable
    # maximum) saturates; lo <= hi always holds.
    lo = min(max(lo, -128), 127)
    return int(lo), int(min(max(hi, lo), 127))


# ---------------------------------------------------------------------------------------------
# gemmlowp fixed-point (fixedpoint/fixedpoint.h) for int32 raw values, as TFLM's softmax and
# logistic use it. A FixedPoint<int32, k> value is its raw int32 (k integer bits, 31 - k
# fractional bits); the integer-bit counts are explicit arguments. gemmlowp's plain Add/Sub are
# int32 operations whose overflow is undefined in C; here (and in the C mirror) they wrap.
# Mirrors the enn_fp_* functions of templates/kernels/edgenn_fixedpoint.h.

def _add32(a, b):
    return wrap_int32(np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64))


def _sub32(a, b):
    return wrap_int32(np.asarray(a, dtype=np.int64) - np.asarray(b, dtype=np.int64))


def saturating_rounding_multiply_by_pot(x, exponent: int):
    """gemmlowp SaturatingRoundingMultiplyByPOT<exponent>: saturating x * 2**exponent (exponent > 0),
    rounding x / 2**-exponent (exponent < 0)."""
    x = np.asarray(x, dtype=np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def rescale(x, src_integer_bits: int, dst_integer_bits: int):
    """gemmlowp Rescale<dst>(FixedPoint<int32, src>)."""
    return saturating_rounding_multiply_by_pot(x, src_integer_bits - dst_integer_bits)


def rounding_half_sum(a, b):
    """gemmlowp RoundingHalfSum for int32: (a + b) / 2 rounded to nearest, halves away from zero."""
    s = np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64)
    t = s + np.where(s >= 0, 1, -1)
    return np.where(t >= 0, t >> 1, -((-t) >> 1))  # C's truncating division by 2


def exp_on_interval_between_negative_one_quarter_and_0_excl(a):
    """gemmlowp: exp(a) for a in [-1/4, 0), Q0.31 in and out (Taylor series around -1/8)."""
    constant_term = 1895147668  # exp(-1/8)
    constant_1_over_3 = 715827883
    x = _add32(a, 1 << 28)
    x2 = saturating_rounding_doubling_high_mul(x, x)
    x3 = saturating_rounding_doubling_high_mul(x2, x)
    x4 = saturating_rounding_doubling_high_mul(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    poly = saturating_rounding_multiply_by_pot(
        _add32(saturating_rounding_doubling_high_mul(_add32(x4_over_4, x3), constant_1_over_3), x2), -1)
    return _add32(constant_term, saturating_rounding_doubling_high_mul(constant_term, _add32(x, poly)))


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
               (3, 720401), (4, 242))  # exp(-2**e) in Q0.31


def exp_on_negative_values(a, integer_bits: int):
    """gemmlowp exp_on_negative_values: exp(a) for a <= 0 in Q(integer_bits), result Q0.31."""
    a = np.asarray(a, dtype=np.int64)
    frac = 31 - integer_bits
    one_quarter = 1 << (frac - 2)
    a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter
    result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0))
    remainder = _sub32(a_mod_quarter_minus_one_quarter, a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = (remainder >> (frac + exponent)) & 1
            result = np.where(bit != 0, saturating_rounding_doubling_high_mul(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))  # -32.0
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x_for_x_in_0_1(a):
    """gemmlowp: 1 / (1 + a) for a in [0, 1), Q0.31 in and out (three Newton-Raphson steps)."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    constant_48_over_17 = 1515870810  # Q2.29
    constant_neg_32_over_17 = -1010580540  # Q2.29
    one_q2 = 1 << 29
    x = _add32(constant_48_over_17, saturating_rounding_doubling_high_mul(half_denominator, constant_neg_32_over_17))
    for _ in range(3):
        half_denominator_times_x = saturating_rounding_doubling_high_mul(half_denominator, x)
        one_minus = _sub32(one_q2, half_denominator_times_x)
        x = _add32(x, rescale(saturating_rounding_doubling_high_mul(x, one_minus), 4, 2))
    return rescale(x, 1, 0)  # ExactMulByPot<-1> then Rescale<0>


def logistic_fixed(a, integer_bits: int):
    """gemmlowp logistic(FixedPoint<int32, integer_bits>): 1 / (1 + exp(-a)) in Q0.31."""
    a = np.asarray(a, dtype=np.int64)
    abs_input = np.where(a > 0, a, wrap_int32(-a))
    result_if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(wrap_int32(-abs_input), integer_bits))
    result_if_negative = _sub32(INT32_MAX, result_if_positive)
    return np.where(a == 0, 1 << 30, np.where(a > 0, result_if_positive, result_if_negative))


def count_leading_zeros32(x):
    """Leading zero bits of x as uint32 (32 for 0), like TFLite's CountLeadingZeros<uint32_t>."""
    u = np.asarray(x, dtype=np.int64) & 0xFFFFFFFF
    n = np.full(u.shape, 32, dtype=np.int64)
    nz = u != 0
    # frexp is exact for integers below 2**53: u = m * 2**e with 0.5 <= m < 1, so bit length = e.
    _, e = np.frexp(u.astype(np.float64))
    n[nz] = 32 - e[nz]
    return n if n.ndim else int(n)


def get_reciprocal(x, x_integer_digits: int):
    """TFLite GetReciprocal: (1/x as Q0.31 scaled into [0.5, 1), num_bits_over_unit)."""
    x = np.asarray(x, dtype=np.int64)
    headroom_plus_one = count_leading_zeros32(x)
    num_bits_over_unit = x_integer_digits - headroom_plus_one
    shifted = ((x & 0xFFFFFFFF) << headroom_plus_one) & 0xFFFFFFFF
    shifted_sum_minus_one = wrap_int32(shifted - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    """TFLite CalculateInputRadius (the float-arithmetic build)."""
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1) * float(1 << (total_signed_bits - input_integer_bits))
                          / float(1 << input_left_shift))
    return int(math.floor(max_input_rescaled))


def preprocess_softmax_scaling(beta: float, input_scale: float, input_integer_bits: int) -> tuple[int, int]:
    """TFLite PreprocessSoftmaxScaling (double rounding build): (multiplier, left_shift >= 0)."""
    max_real_multiplier = float((1 << 31) - 1)
    real = min(float(beta) * float(input_scale) * float(1 << (31 - input_integer_bits)), max_real_multiplier)
    if not real > 1.0:  # QuantizeMultiplierGreaterThanOne's check
        raise ValueError(f"softmax: beta * input_scale * 2**{31 - input_integer_bits} = {real} must exceed 1")
    m, s = quantize_multiplier(real)
    if s < 0:
        raise ValueError(f"softmax: negative left shift {s}")
    return m, s


def saturating_rounding_multiply_by_pot_param(x, exponent):
    """TFLite SaturatingRoundingMultiplyByPOTParam for exponent >= 0 (a run-time, per-element
    exponent): saturating x * 2**exponent."""
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    if np.any(e < 0):
        raise ValueError("saturating_rounding_multiply_by_pot_param: negative exponent")
    threshold = (np.int64(1) << (31 - e)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, wrap_int32(x << e)))


def _saturate32(x):
    return np.clip(np.asarray(x, dtype=np.int64), INT32_MIN, INT32_MAX)


def log_x_for_x_greater_than_or_equal_to_1(x, input_integer_bits: int, output_integer_bits: int):
    """TFLite log_x_for_x_greater_than_or_equal_to_1<output_integer_bits>(FixedPoint<int32,
    input_integer_bits>) (kernels/internal/common.h): ln(x) for x >= 1, raw int32 in and out."""
    srdhm = saturating_rounding_doubling_high_mul
    accum_bits = output_integer_bits + 1
    log_2, sqrt_sqrt_half, sqrt_half, one_quarter = 1488522236, 1805811301, 1518500250, 536870912
    alpha_n, alpha_d, alpha_i, alpha_f = 117049297, 127690142, 1057819769, 638450708
    shifted_quarter = rescale(one_quarter, 0, accum_bits)
    z_a = np.asarray(x, dtype=np.int64)
    z_a_headroom_plus_1 = count_leading_zeros32(z_a)
    r_a_tmp = saturating_rounding_multiply_by_pot_param(z_a, z_a_headroom_plus_1 - 1)
    r_a_raw = saturating_rounding_multiply_by_pot_param(srdhm(r_a_tmp, sqrt_half), 1)
    z_a_pow_2_adj = _saturate32(saturating_rounding_multiply_by_pot_param(
        input_integer_bits - z_a_headroom_plus_1, 31 - accum_bits) + shifted_quarter)
    z_b = srdhm(z_a, sqrt_half)
    z_b_headroom = count_leading_zeros32(z_b) - 1
    r_b_raw = saturating_rounding_multiply_by_pot_param(z_a, z_b_headroom)
    z_b_pow_2_adj = _saturate32(saturating_rounding_multiply_by_pot_param(
        input_integer_bits - z_b_headroom, 31 - accum_bits) - shifted_quarter)
    r = np.minimum(r_a_raw, r_b_raw)
    z_pow_2_adj = np.maximum(z_a_pow_2_adj, z_b_pow_2_adj)
    p = rounding_half_sum(r, sqrt_sqrt_half)
    q = _sub32(r, sqrt_sqrt_half)
    q = _add32(q, q)
    common_sq = srdhm(q, q)
    num = _add32(srdhm(q, r), srdhm(srdhm(q, common_sq), alpha_n))
    denom_minus_one_0 = _add32(srdhm(p, _add32(_add32(alpha_i, q), srdhm(alpha_d, common_sq))), srdhm(alpha_f, q))
    recip_denom = one_over_one_plus_x_for_x_in_0_1(denom_minus_one_0)
    num_scaled = rescale(num, 0, accum_bits)
    return rescale(_add32(srdhm(z_pow_2_adj, log_2), srdhm(num_scaled, recip_denom)), accum_bits,
                   output_integer_bits)


def preprocess_log_softmax_scaling_exp(beta: float, input_scale: float,
                                       input_integer_bits: int) -> tuple[int, int, int, int]:
    """TFLite PreprocessLogSoftmaxScalingExp: (multiplier, left_shift, reverse_scaling_divisor,
    reverse_scaling_left_shift <= 0)."""
    m, s = preprocess_softmax_scaling(beta, input_scale, input_integer_bits)
    real_reverse = float(1 << (31 - s)) / float(m)
    if not 0.0 < real_reverse < 1.0:
        raise ValueError(f"log_softmax: reverse scaling divisor {real_reverse} is outside (0, 1)")
    rm, rs = quantize_multiplier(real_reverse)
    if rs > 0:
        raise ValueError(f"log_softmax: reverse scaling divisor {real_reverse} rounds to 1")
    return m, s, rm, rs


def get_inv_sqrt_quantized_multiplier_exp(x, reverse_shift: int = -1):
    """TFLite GetInvSqrtQuantizedMultiplierExp for int32 x >= 0 (an int, or vectorized over an array):
    1/sqrt(x) as a Q31 multiplier and a shift (times reverse_shift), from 5 Newton-Raphson steps in
    gemmlowp FixedPoint<int32, 3> arithmetic; x <= 1 gives (INT32_MAX, 0). Mirrors enn_inv_sqrt_exp."""
    if np.ndim(x) == 0:
        m, s = get_inv_sqrt_quantized_multiplier_exp(np.asarray([x]), reverse_shift)
        return int(m[0]), int(s[0])
    x = np.array(x, dtype=np.int64, ndmin=1)
    small = x <= 1
    shift = np.full(x.shape, 11, np.int64)
    while True:
        big = x >= (1 << 29)
        if not np.any(big):
            break
        x = np.where(big, x // 4, x)
        shift += big
    pairs = (count_leading_zeros32(np.where(small, 2, x)) - 1) // 2 - 1
    shift -= pairs
    x = np.where(small, 1 << 27, x << (2 * pairs))
    f3_input = x >> 1
    half_input = rounding_divide_by_pot(f3_input, 1)
    half_three = (1 << 28) + (1 << 27)
    v = np.full(x.shape, 1 << 28, np.int64)  # F3 one
    for _ in range(5):
        x3 = saturating_rounding_multiply_by_pot(
            saturating_rounding_doubling_high_mul(saturating_rounding_doubling_high_mul(v, v), v), 6)
        v = saturating_rounding_multiply_by_pot(
            _sub32(saturating_rounding_doubling_high_mul(half_three, v),
                   saturating_rounding_doubling_high_mul(half_input, x3)), 3)
    v = saturating_rounding_doubling_high_mul(v, 1518500250)  # times sqrt(2) / 2 (F0)
    neg = shift < 0
    v = np.where(neg, wrap_int32(v << np.where(neg, -shift, 0)), v)
    shift = np.where(neg, 0, shift)
    return np.where(small, INT32_MAX, v), np.where(small, 0, shift * reverse_shift)
