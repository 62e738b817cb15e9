"""tile int8 kernel (TFLM BroadcastTo; ONNX Expand and Tile): output element i takes input element
i mod input extent along every axis (the input right-aligned to the output's rank). A byte copy."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import io_shapes, require
from edgenn.runtime_py.kernels.common import take_axes, tile_index

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    t = model.tensors[op.inputs[0]]
    out_shape = tuple(outs[0].shape[1:])
    in_shape = (1,) * (len(out_shape) - len(t.shape)) + tuple(t.shape)
    x = np.asarray(ins[0]).reshape((-1,) + in_shape)
    y = take_axes(x, [tile_index(no, ni) for no, ni in zip(out_shape, in_shape)])
    outs[0][...] = np.broadcast_to(y, outs[0].shape)


def check(op, model) -> None:
    """Every output extent a whole multiple of the input's (right-aligned)."""
    (x,), (y,) = io_shapes(op, model)
    xs = (1,) * (len(y) - len(x)) + tuple(x)
    require(len(x) <= len(y) and all(o % i == 0 for i, o in zip(xs, y)), f"cannot tile {x} to {y}")
