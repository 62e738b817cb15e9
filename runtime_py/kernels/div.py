"""div int8 kernel (TFLM reference_ops::DivElementwise), with broadcasting: per pair the divisor's
sign moves to the dividend, the divisor becomes TFLite's fixed-point reciprocal (GetReciprocal), the
dividend is shifted by its headroom (CountLeadingSignBits), multiplied, then requantized; a final
right shift of 32..63 follows TFLM's x86-64 build (tflm_host_shift) or rounds exactly to 0 (see
converter/ops/div.py). A function of the two int8 values alone: tabulated (256 x 256, cached per
parameter set)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import (count_leading_zeros32, get_reciprocal, rounding_divide_by_pot,
                                          saturating_rounding_doubling_high_mul, wrap_int32)
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import INT8_VALUES, binary_run, option_table

TRAITS = KernelTraits(overlap="elementwise", inputs=("input1", "input2"))

_KEYS = ("input1_offset", "input2_offset", "output_offset", "output_multiplier", "output_shift", "act_min", "act_max",
         "tflm_host_shift")


def count_leading_sign_bits(x: np.ndarray) -> np.ndarray:
    """TFLite CountLeadingSignBits of int32 values (gcc's __builtin_clrsb; 31 for 0)."""
    x = np.asarray(x, np.int64)
    return count_leading_zeros32(np.where(x < 0, ~x, x)) - 1


@option_table(_KEYS)
def table(o) -> np.ndarray:
    """All 65536 results, indexed [(x1 + 128) * 256 + (x2 + 128)] (read-only)."""
    v1 = np.repeat(INT8_VALUES + o["input1_offset"], 256)
    v2 = np.tile(INT8_VALUES + o["input2_offset"], 256)
    neg = v2 < 0
    v1, v2 = np.where(neg, -v1, v1), np.where(neg, -v2, v2)
    inv, recip_shift = get_reciprocal(v2, 31)
    headroom = count_leading_sign_bits(v1)
    unscaled = saturating_rounding_doubling_high_mul(wrap_int32(v1 << headroom), inv)
    e = recip_shift + headroom - o["output_shift"]  # a right shift, 1..63 (prepare checks it)
    x = saturating_rounding_doubling_high_mul(unscaled, o["output_multiplier"])
    big = e > 31  # gemmlowp's shift is undefined there: TFLM's x86-64 build, or the exact rounding (0)
    y = rounding_divide_by_pot(x, np.where(big, 0, e))
    wide = (x >> np.where(big, e - 32, 0)) + (x >= 0) if o["tflm_host_shift"] else 0
    y = np.where(big, wide, y)
    return np.clip(y + o["output_offset"], o["act_min"], o["act_max"]).astype(np.int8)


def run(op, model, ins, outs, scratch) -> None:
    binary_run(op, model, ins, outs, table(op.options))


check = check_broadcast  # every input broadcasts to the output's shape
