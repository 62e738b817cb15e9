"""slice int8 kernel (TFLM reference_ops::Slice and StridedSlice): output element i takes input
element begin + i * stride along every axis (``size`` elements per axis; shrunk axes have size 1
and are absent from the output shape). A byte copy: no requantization."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import io_shapes, require
from edgenn.runtime_py.kernels.common import contiguous_offset, slice_index, take_axes

TRAITS = KernelTraits(overlap="view", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0])
    if t.is_const:
        x = x.reshape((1,) + tuple(t.shape))
    idx = [slice_index(b, n, s) for b, n, s in zip(o["begin"], o["size"], o["stride"])]
    y = take_axes(x, idx)
    outs[0][...] = y.reshape((y.shape[0],) + tuple(outs[0].shape[1:]))


def view_offsets(options: dict, in_shape, out_shapes, itemsize: int = 1) -> list[int | None]:
    """Byte offset of the output inside the input when it is a contiguous range of it (an alias)."""
    off = contiguous_offset(in_shape, options["begin"], options["size"], options["stride"])
    return [None if off is None else off * itemsize]


def check(op, model) -> None:
    """begin / size / stride per axis: every element read lies inside the input, size is the output's."""
    (x,), (y,) = io_shapes(op, model)
    o = op.options
    b, n, s = (np.asarray(o[k], np.int64).reshape(-1) for k in ("begin", "size", "stride"))
    ok = b.size == n.size == s.size == len(x) and int(np.prod(n)) == int(np.prod(y, dtype=np.int64))
    if ok:
        last = b + (n - 1) * s
        ok = bool(np.all(n >= 1) and np.all(s != 0) and np.all((b >= 0) & (b < x) & (last >= 0) & (last < x)))
    require(ok, f"begin {b.tolist()}, size {n.tolist()}, stride {s.tolist()} do not slice {x} to {y}")
