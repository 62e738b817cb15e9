"""l2_normalization kernel: TFLM reference_integer_ops::L2Normalization over the last axis: per row the
int32 sum of squares of x - zero point, its fixed-point inverse square root (TFLite's
GetInvSqrtQuantizedMultiplierExp), then MBQM(x - zero point, multiplier, shift + 7) clamped to int8
(units of 1/128, no output offset)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import (get_inv_sqrt_quantized_multiplier_exp,
                                          multiply_by_quantized_multiplier)
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape

TRAITS = KernelTraits(overlap="elementwise", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    x = np.asarray(ins[0])
    v = x.reshape(-1, x.shape[-1]).astype(np.int64) - int(op.options["input_zero_point"])
    mult, shift = get_inv_sqrt_quantized_multiplier_exp(np.sum(v * v, axis=1), -1)
    y = multiply_by_quantized_multiplier(v, mult[:, None], shift[:, None] + 7)
    outs[0][...] = np.clip(y, -128, 127).astype(np.int8).reshape(outs[0].shape)


check = check_same_shape  # elementwise: the output has the input's shape
