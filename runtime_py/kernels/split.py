"""split int8 kernel (TFLM Split / SplitV / Unpack): the input cut along ``axis`` into consecutive
pieces, one per output (an output's extent along the axis is its size over the other axes; an
Unpack output lacks the axis). A byte copy: no requantization."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import elements, io_shapes, require

TRAITS = KernelTraits(overlap="view", inputs=("input",), outputs=0)


def extents(axis: int, in_shape, out_sizes) -> tuple[int, list[int]]:
    """(outer, per-output extent along the axis) from the input shape and the outputs' element counts."""
    outer = int(np.prod(in_shape[:axis], dtype=np.int64))
    inner = int(np.prod(in_shape[axis + 1:], dtype=np.int64))
    return outer, [int(s) // max(outer * inner, 1) for s in out_sizes]


def run(op, model, ins, outs, scratch) -> None:
    t = model.tensors[op.inputs[0]]
    axis = int(op.options["axis"])
    x = np.asarray(ins[0])
    if t.is_const:
        x = x.reshape((1,) + tuple(t.shape))
    _, ext = extents(axis, t.shape, [int(np.prod(o.shape[1:], dtype=np.int64)) for o in outs])
    start = 0
    parts = []
    for e in ext:
        parts.append(np.take(x, np.arange(start, start + e), axis=axis + 1))
        start += e
    for out, p in zip(outs, parts):  # all read before any is written (outputs may alias the input)
        out[...] = p.reshape(out.shape)


def view_offsets(options: dict, in_shape, out_shapes, itemsize: int = 1) -> list[int | None]:
    """Byte offsets of the outputs inside the input: contiguous ranges when no axis before the
    split axis has extent > 1."""
    axis = int(options["axis"])
    sizes = [int(np.prod(s, dtype=np.int64)) for s in out_shapes]
    outer, _ = extents(axis, in_shape, sizes)
    if outer != 1:
        return [None] * len(out_shapes)
    offs, off = [], 0
    for s in sizes:
        offs.append(off * itemsize)
        off += s
    return offs


def check(op, model) -> None:
    """Outputs that together hold the input, each whole slabs along the axis."""
    (x,), outs = io_shapes(op, model)
    axis = int(op.options["axis"])
    require(0 <= axis < len(x), f"axis {axis} of a rank-{len(x)} input")
    slab = elements(x) // max(x[axis], 1)
    sizes = [elements(s) for s in outs]
    require(sum(sizes) == elements(x) and all(s % slab == 0 for s in sizes),
            f"outputs {outs} do not split {x} along axis {axis}")
