"""reshape kernel: the same bytes under a new shape (TFLM Reshape copies unless in place)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import elements, io_shapes, require

TRAITS = KernelTraits(overlap="alias", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0])
    if t.is_const:
        x = x.reshape((1,) + tuple(t.shape))
    outs[0][...] = x.reshape((x.shape[0],) + tuple(outs[0].shape[1:]))


def check(op, model) -> None:
    """The output holds exactly the input's elements."""
    (x,), (y,) = io_shapes(op, model)
    require(elements(x) == elements(y), f"reshapes {x} ({elements(x)} values) to {y} ({elements(y)})")
