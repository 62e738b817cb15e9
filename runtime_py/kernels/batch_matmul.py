"""batch_matmul int8 kernel (TFLM reference BatchMatMul<int8_t, int32_t>): broadcast batch axes,
y = clamp(zp_out + MultiplyByQuantizedMultiplier(sum_k (lhs + lhs_offset) (rhs + rhs_offset)))."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import requantize_to_int8
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import elements, io_shapes, require
from edgenn.runtime_py.kernels.common import operand

TRAITS = KernelTraits(overlap="none", inputs=("lhs", "rhs"))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    rank = len(model.tensors[op.outputs[0]].shape)
    a = operand(model, op, ins, 0, rank).astype(np.float64) + o["lhs_offset"]
    b = operand(model, op, ins, 1, rank).astype(np.float64) + o["rhs_offset"]
    if o["adj_x"]:
        a = np.swapaxes(a, -1, -2)
    if o["adj_y"]:
        b = np.swapaxes(b, -1, -2)
    # Products of values in [-255, 255] summed in float64 are exact integers (|sum| << 2**53).
    acc = np.matmul(a, b).astype(np.int64)
    y = requantize_to_int8(acc, o["multiplier"], o["shift"], o["output_offset"], -128, 127)
    outs[0][...] = np.broadcast_to(y, outs[0].shape)


def check(op, model) -> None:
    """rows x depth x cols and the 3 batch extents and strides fit the operands and the output."""
    (a, b), (y,) = io_shapes(op, model)
    o = op.options
    rows, cols, depth = int(o["rows"]), int(o["cols"]), int(o["depth"])
    batch, ls, rs = (np.asarray(o[k], np.int64).reshape(-1) for k in ("batch", "lhs_stride", "rhs_stride"))
    ok = batch.size == ls.size == rs.size == 3 and min(rows, cols, depth) >= 1 and bool(np.all(batch >= 1)) \
        and bool(np.all(ls >= 0) and np.all(rs >= 0))
    ok = ok and int(np.prod(batch)) * rows * cols == elements(y)
    ok = ok and int(np.sum((batch - 1) * ls)) + rows * depth <= elements(a)
    ok = ok and int(np.sum((batch - 1) * rs)) + depth * cols <= elements(b)
    require(ok, f"rows {rows}, cols {cols}, depth {depth}, batch {batch.tolist()} do not fit {a} x {b} -> {y}")
