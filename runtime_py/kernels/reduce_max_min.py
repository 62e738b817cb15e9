"""reduce_max_min kernel: TFLM's REDUCE_MAX / REDUCE_MIN (reference_ops::ReduceGeneric on raw int8
values; the output is quantized like the input) and REDUCE_ALL (the minimum of bool bytes)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_axes, check_reduction, io_shapes

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    axes = tuple(int(a) + 1 for a in np.asarray(o["axes"]).reshape(-1))
    x = np.asarray(ins[0])
    f = np.max if o["is_max"] else np.min
    y = f(x, axis=axes) if axes else x
    outs[0][...] = y.reshape(outs[0].shape)


def check(op, model) -> None:
    """axes: distinct axes of the input."""
    (x,), _ = io_shapes(op, model)
    check_axes(op, "axes", len(x))
    check_reduction(op, model, [int(a) for a in np.asarray(op.options["axes"]).reshape(-1)])
