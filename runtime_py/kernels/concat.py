"""concat int8 kernel (TFLM reference_ops::Concatenation: a copy, no requantization)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import io_shapes, require

TRAITS = KernelTraits(overlap="concat", inputs=("input",), variadic=True)


def run(op, model, ins, outs, scratch) -> None:
    n = outs[0].shape[0]
    parts = []
    for ti, x in zip(op.inputs, ins):
        t = model.tensors[ti]
        parts.append(np.broadcast_to(x, (n,) + tuple(t.shape)) if t.is_const else x)
    outs[0][...] = np.concatenate(parts, axis=int(op.options["axis"]) + 1)


def check(op, model) -> None:
    """Inputs of the output's rank agreeing off the axis, their extents along it summing to the output's."""
    ins, (y,) = io_shapes(op, model)
    axis = int(op.options["axis"])
    require(0 <= axis < len(y), f"axis {axis} of a rank-{len(y)} output")
    require(all(len(s) == len(y) and s[:axis] + s[axis + 1:] == y[:axis] + y[axis + 1:] for s in ins)
            and sum(s[axis] for s in ins) == y[axis], f"inputs {ins} do not concatenate to {y} along axis {axis}")
