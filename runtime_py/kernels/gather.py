"""gather int8 kernel (TFLM Gather): for every batch and outer position, the rows of the input's
``axis`` named by ``indices`` (``batch_dims`` leading axes shared by the input and the indices): the
constant option, or the int32 input 1 read at run time (negative from the end, then clamped to the
axis: common.clamp_indices). A byte copy: no requantization."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import elements, io_shapes, require
from edgenn.runtime_py.kernels.common import clamp_indices, gather_rows

TRAITS = KernelTraits(overlap="none", inputs=("input", "indices"), optional=("indices",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0]).reshape((-1,) + tuple(t.shape))
    axis, bd = int(o["axis"]), int(o["batch_dims"])
    if len(ins) > 1 and ins[1] is not None:  # indices read at run time, one set per sample
        idx = np.asarray(ins[1])
        n = idx.shape[0]
        xs = np.broadcast_to(x, (n,) + x.shape[1:])
        y = np.concatenate([gather_rows(xs[s:s + 1], t.shape, axis, bd, clamp_indices(idx[s], t.shape[axis]))
                            for s in range(n)])
        outs[0][...] = y.reshape(outs[0].shape)
        return
    y = gather_rows(x, t.shape, axis, bd, o["indices"])
    outs[0][...] = np.broadcast_to(y.reshape((y.shape[0],) + tuple(outs[0].shape[1:])), outs[0].shape)


def check(op, model) -> None:
    """axis and batch_dims of the input; constant indices inside the axis and filling the output."""
    ins, (y,) = io_shapes(op, model)
    x = ins[0]
    o = op.options
    axis, bd = int(o["axis"]), int(o["batch_dims"])
    require(0 <= bd <= axis < len(x), f"axis {axis} / batch_dims {bd} of a rank-{len(x)} input")
    if len(ins) < 2 or ins[1] is None:
        idx = np.asarray(o["indices"], np.int64).reshape(-1)
        require(bool(np.all((idx >= 0) & (idx < x[axis]))), f"indices outside 0..{x[axis] - 1}")
        # (*batch, k) indices: the output holds k rows of the axis for every batch and outer position.
        require(elements(y) * x[axis] * elements(x[:bd]) == elements(x) * idx.size,
                f"output {y} does not hold the gathered rows")
