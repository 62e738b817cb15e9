"""resize_bilinear int8 kernel (TFLM reference_ops::ResizeBilinearInteger), on the per-axis tables
of the options: rows first (y0, y1 with weights 1024 - fy, fy), then columns; the sum (exact in
int64, in 1/2^20) is rounded half away from zero as TFLM's (output_20 +- 2^19) / 2^20.
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_window, check_index_option, io_shapes, require

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    y0, y1, fy = (np.asarray(o[k], np.int64) for k in ("y0", "y1", "fy"))
    x0, x1, fx = (np.asarray(o[k], np.int64) for k in ("x0", "x1", "fx"))
    x = ins[0].astype(np.int64)
    wy = fy[:, None, None]
    rows = x[..., y0, :, :] * (1024 - wy) + x[..., y1, :, :] * wy
    wx = fx[:, None]
    acc = rows[..., x0, :] * (1024 - wx) + rows[..., x1, :] * wx
    mag = (np.abs(acc) + (1 << 19)) >> 20
    outs[0][...] = (np.sign(acc) * mag).astype(np.int8)


def check(op, model) -> None:
    """Two source rows (columns) inside the input and a weight for every output row (column)."""
    check_window(op, model)
    (x,), (y,) = io_shapes(op, model)
    for k in ("y0", "y1"):
        check_index_option(op, k, y[1], x[1])
    for k in ("x0", "x1"):
        check_index_option(op, k, y[2], x[2])
    for k, n in (("fy", y[1]), ("fx", y[2])):
        require(np.asarray(op.options[k]).size == n, f"option {k} needs {n} values")
