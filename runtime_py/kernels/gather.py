"""gather int8 kernel (TFLM Gather with constant indices): for every batch and outer position, the
rows of the input's ``axis`` named by ``indices`` (``batch_dims`` leading axes shared by the input
and the indices). A byte copy: no requantization."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def sizes(axis: int, batch_dims: int, in_shape, n_indices: int) -> tuple[int, int, int, int, int]:
    """(batch, outer, axis size, coordinates per batch, inner) as TFLM's Gather loops over them."""
    batch = int(np.prod(in_shape[:batch_dims], dtype=np.int64))
    outer = int(np.prod(in_shape[batch_dims:axis], dtype=np.int64))
    inner = int(np.prod(in_shape[axis + 1:], dtype=np.int64))
    return batch, outer, int(in_shape[axis]), n_indices // max(batch, 1), inner


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0])
    if t.is_const:
        x = x.reshape((1,) + tuple(t.shape))
    idx = np.asarray(o["indices"], np.int64).reshape(-1)
    batch, outer, axis_size, coords, inner = sizes(int(o["axis"]), int(o["batch_dims"]), t.shape, idx.size)
    xv = x.reshape(x.shape[0], batch, outer, axis_size, inner)
    rows = idx.reshape(batch, 1, coords)
    y = xv[:, np.arange(batch)[:, None, None], np.arange(outer)[None, :, None], rows]  # (N, B, O, coords, inner)
    outs[0][...] = y.reshape(outs[0].shape)
