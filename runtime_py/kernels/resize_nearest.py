"""resize_nearest int8 kernel (TFLM reference_ops::ResizeNearestNeighbor): output pixel (i, j) is
input pixel (in_y[i], in_x[j]) of the options' tables."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    in_y = np.asarray(op.options["in_y"], np.int64)
    in_x = np.asarray(op.options["in_x"], np.int64)
    outs[0][...] = ins[0][..., in_y, :, :][..., in_x, :]
