"""arg_min_max kernel: TFLM's ARG_MAX / ARG_MIN (reference_ops::ArgMinMax with std::greater / std::less:
the first index of the extreme value wins) and ONNX's select_last_index (the last one wins), on the
raw int8 values; int32 or int64 output."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_reduction, io_shapes, require

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    a = int(o["axis"]) + 1
    x = np.asarray(ins[0]).astype(np.int16)
    if not o["is_arg_max"]:
        x = -x  # the minimum of x is the maximum of -x, with the same ties
    if o["select_last_index"]:
        idx = x.shape[a] - 1 - np.argmax(np.flip(x, axis=a), axis=a)
    else:
        idx = np.argmax(x, axis=a)  # numpy returns the first of equal maxima, as TFLM's strict comparison
    outs[0][...] = idx.reshape(outs[0].shape).astype(outs[0].dtype)


def check(op, model) -> None:
    """axis: an axis of the input."""
    (x,), _ = io_shapes(op, model)
    require(0 <= int(op.options["axis"]) < len(x), f"axis {int(op.options['axis'])} of a rank-{len(x)} input")
    check_reduction(op, model, [int(op.options["axis"])])
