"""resize_nearest int8 kernel (TFLM reference_ops::ResizeNearestNeighbor): output pixel (i, j) is
input pixel (in_y[i], in_x[j]) of the options' tables."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_window, check_index_option, io_shapes

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    in_y = np.asarray(op.options["in_y"], np.int64)
    in_x = np.asarray(op.options["in_x"], np.int64)
    outs[0][...] = ins[0][..., in_y, :, :][..., in_x, :]


def check(op, model) -> None:
    """A source row (column) inside the input for every output row (column)."""
    check_window(op, model)
    (x,), (y,) = io_shapes(op, model)
    check_index_option(op, "in_y", y[1], x[1])
    check_index_option(op, "in_x", y[2], x[2])
