"""mean int8 kernel (TFLM reference_ops::QuantizedMeanOrSum; multiplier/shift already folded with 1/count)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_axes, check_reduction, io_shapes

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    x = np.asarray(ins[0])
    o = op.options
    axes = tuple(int(a) + 1 for a in np.asarray(o["axes"]).reshape(-1))
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    s = x.sum(axis=axes, dtype=np.int64) if axes else x.astype(np.int64)
    # |sum - zp * count| < 2**31 (count <= 2**23 - 1, checked by the rule): no int32 wrap-around.
    y = multiply_by_quantized_multiplier(s + o["input_offset"] * count, o["multiplier"], o["shift"])
    y = y + o["output_offset"]
    outs[0][...] = np.clip(y, -128, 127).astype(np.int8).reshape(outs[0].shape)


def check(op, model) -> None:
    """axes: distinct axes of the input."""
    (x,), _ = io_shapes(op, model)
    check_axes(op, "axes", len(x))
    check_reduction(op, model, [int(a) for a in np.asarray(op.options["axes"]).reshape(-1)])
