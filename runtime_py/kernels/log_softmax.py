"""log_softmax int8 kernel (TFLM reference_ops::LogSoftmax<int8_t>, LogSoftmaxQuantized), over the last axis.

Per row: diff = x - max(row); the sum of exp(diff) over diff >= diff_min in Q12.19 (fixed-point
exp of diff rescaled to Q5.26), its log in Q5.26; an element whose diff exceeds
max(diff_min - 1, requant(log_sum - 2**31, reverse scaling)) gets
RoundingDivideByPOT(diff_q5 - log_sum, 22) + 127, clamped; the others -128.
Output scale 16/256, zero point 127. diff is one of 256 values: its rescaled value and exp are tabulated.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from edgenn.runtime_py.fixedpoint import (INT32_MIN, exp_on_negative_values, log_x_for_x_greater_than_or_equal_to_1,
                                          multiply_by_quantized_multiplier, rounding_divide_by_pot, wrap_int32)
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape

TRAITS = KernelTraits(overlap="elementwise", inputs=("input",))

INPUT_INTEGER_BITS = 5
ACCUMULATION_INTEGER_BITS = 12
OUTPUT_INTEGER_BITS = 4


@lru_cache(maxsize=256)
def _tables(multiplier: int, left_shift: int, diff_min: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For diff = -255..0 (index diff + 255): diff in Q5.26, its exp's contribution to the Q12.19
    sum (0 below diff_min)."""
    d = np.arange(-255, 1, dtype=np.int64)
    q5 = multiply_by_quantized_multiplier(d, multiplier, left_shift)
    term = rounding_divide_by_pot(exp_on_negative_values(q5, INPUT_INTEGER_BITS),
                                  ACCUMULATION_INTEGER_BITS)
    term = np.where(d >= diff_min, term, 0)
    for t in (d, q5, term):
        t.setflags(write=False)
    return d, q5, term


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x = np.asarray(ins[0])
    depth = x.shape[-1]
    rows = x.reshape(-1, depth).astype(np.int64)
    d_tab, q5_tab, term_tab = _tables(int(o["input_multiplier"]), int(o["input_left_shift"]), int(o["diff_min"]))
    idx = rows - rows.max(axis=1, keepdims=True) + 255
    total = wrap_int32(term_tab[idx].sum(axis=1))
    log_sum = log_x_for_x_greater_than_or_equal_to_1(total, ACCUMULATION_INTEGER_BITS, INPUT_INTEGER_BITS)
    reverse = multiply_by_quantized_multiplier(wrap_int32(log_sum + INT32_MIN), int(o["reverse_scaling_divisor"]),
                                               -int(o["reverse_scaling_right_shift"]))
    adjusted_diff_min = np.maximum(int(o["diff_min"]) - 1, reverse)[:, None]
    out = rounding_divide_by_pot(wrap_int32(q5_tab[idx] - log_sum[:, None]),
                                 31 - INPUT_INTEGER_BITS - OUTPUT_INTEGER_BITS) + 127
    y = np.where(d_tab[idx] > adjusted_diff_min, np.clip(out, -128, 127), -128)
    outs[0][...] = y.astype(np.int8).reshape(outs[0].shape)


check = check_same_shape  # elementwise: the output has the input's shape
