"""lrn kernel (edgenn's integer local response normalization, converter/ops/lrn.py): per pixel the
exact sum S of squares of v = x - zero point over each channel's window, the factor T(S) from the
table (exact below 64, else linear between the two entries of its octave: floor arithmetic), then
output offset + MBQM(SRDHM(v << 22, T), multiplier, shift)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import (count_leading_zeros32, multiply_by_quantized_multiplier,
                                          saturating_rounding_doubling_high_mul)
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape, require

TRAITS = KernelTraits(overlap="none", inputs=("input", "table"), constants=("table",))


def table_factor(table: np.ndarray, s: np.ndarray) -> np.ndarray:
    """T(S) for int64 sums S >= 0 (the C kernel's lookup and interpolation)."""
    e = 31 - count_leading_zeros32(np.maximum(s, 1))
    o = np.maximum(e - 6, 0)
    m = s >> o
    k = np.where(s < 64, s, m + 64 * o)
    t0 = table[k].astype(np.int64)
    t1 = table[np.minimum(k + 1, table.size - 1)].astype(np.int64)
    frac = s & ((np.int64(1) << o) - 1)
    return t0 + (((t1 - t0) * frac) >> o)


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x = np.asarray(ins[0])
    table = np.asarray(ins[1]).reshape(-1)
    c = x.shape[-1]
    v = x.reshape(-1, c).astype(np.int64) + int(o["input_offset"])
    sq = np.concatenate([np.zeros((v.shape[0], 1), np.int64), np.cumsum(v * v, axis=1)], axis=1)
    hi = np.minimum(np.arange(c) + int(o["after"]) + 1, c)
    lo = np.maximum(np.arange(c) - int(o["before"]), 0)
    s = sq[:, hi] - sq[:, lo]
    t = table_factor(table, s)
    y = multiply_by_quantized_multiplier(saturating_rounding_doubling_high_mul(v << 22, t), int(o["multiplier"]),
                                         int(o["shift"])) + int(o["output_offset"])
    outs[0][...] = np.clip(y, -128, 127).astype(np.int8).reshape(outs[0].shape)


def check(op, model) -> None:
    """Output of the input's shape, a window of channels that does not reach backwards."""
    check_same_shape(op, model)
    o = op.options
    require(int(o["before"]) >= 0 and int(o["after"]) >= 0, f"window before {int(o['before'])}, after "
            f"{int(o['after'])}")
