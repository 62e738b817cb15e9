"""select: output = condition ? x : y with numpy-style broadcasting of all three (TFLM SELECT_V2).

No float attrs. Input 0 is the bool condition (an activation, e.g. a comparison's output, or a
constant); the output is calibrated and x, y get its quantization (``same_quant_inputs``: the
kernel copies bytes, as TFLM does). TFLite's SELECT (v1) has no TFLM kernel at all: refused.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import check_binary_shapes, onnx_operands, per_tensor
from edgenn.errors import EdgennError

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=True,
                    channels="elementwise")


def prepare(op: Op, g: Graph) -> None:
    check_binary_shapes(op, g)
    if g.tensors[op.inputs[0]].dtype != "bool":
        raise EdgennError(f"select '{op.name}': the condition must be bool, got {g.tensors[op.inputs[0]].dtype}")
    for t in op.inputs[1:] + op.outputs:
        per_tensor(op, g, t)
    op.options = {}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    rank = len(g.tensors[op.outputs[0]].shape)
    c, x, y = (fx.lift(v, name, g, rank, g.tensors[name].is_const) for v, name in zip(xs, op.inputs))
    return [np.where(c != 0, x, y).astype(np.float64)]


def _onnx_where(imp, node) -> None:
    """Where(condition, X, Y): the condition is a constant or a bool activation (a comparison)."""
    cond, x, y = node.input[:3]
    if not imp.is_const(cond) and imp.is_const(x) and imp.is_const(y):
        imp.fail("Where with constant values and a computed condition is not supported")
    if imp.is_const(cond):
        c = np.asarray(imp.const(cond))
        if c.dtype != np.bool_:
            imp.fail(f"the condition must be bool, got {c.dtype}")
    elif imp.g.tensors[imp.values[cond].tensor].dtype != "bool":
        imp.fail("the condition must be a bool tensor (a comparison such as Equal, Less or Greater)")
    # The values decide the layout; the condition follows them (bool tensors are not transposed).
    ins, lay = onnx_operands(imp, node, [x, y, cond])
    if not imp.is_const(cond) and imp.layout(cond) != lay:
        imp.fail("the condition is laid out differently from the values (bool tensors are not transposed)")
    imp.add("select", [ins[2], ins[0], ins[1]], [imp.new_output(node.output[0], lay)])


def _tflite_select_v1(imp, op) -> None:
    imp.fail(op, "TFLite Micro has no SELECT kernel (only SELECT_V2), so no TFLM result to match: "
                 "re-export with tf.where (SELECT_V2)")


ONNX = {"Where": _onnx_where}
TFLITE = {"SELECT_V2": lambda imp, op: imp.add(op, "select", op.inputs[:3], op.outputs[:1]),
          "SELECT": _tflite_select_v1}
