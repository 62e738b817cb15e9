"""reshape: same bytes, new shape (TFLM Reshape: a copy, or nothing when the buffers coincide).

The new shape is the output tensor's shape; options are empty.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.errors import EdgennError

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="reshape")


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if x.size != y.size:
        raise EdgennError(f"reshape '{op.name}': input shape {x.shape} and output shape {y.shape} "
                          "hold different numbers of elements")
    if x.dtype != y.dtype:
        raise EdgennError(f"reshape '{op.name}': input is {x.dtype}, output {y.dtype}")
    op.options = {}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    return [xs[0].reshape((n,) + tuple(g.tensors[op.outputs[0]].shape))]


def _onnx_reshape(imp, node) -> None:
    """Reshape, Flatten, Squeeze, Unsqueeze on activations: a reshape in the ONNX layout."""
    out_shape = imp.shapes.get(node.output[0])
    if out_shape is None:
        imp.fail("output shape could not be inferred")
    x = imp.get(node.input[0])
    y = imp.new_output(node.output[0])
    imp.add("reshape", [x], [y])


ONNX = {"Flatten": _onnx_reshape, "Reshape": _onnx_reshape, "Squeeze": _onnx_reshape, "Unsqueeze": _onnx_reshape}
TFLITE = {"RESHAPE": lambda imp, op: imp.unary(op, "reshape"), "SQUEEZE": lambda imp, op: imp.unary(op, "reshape"),
          "EXPAND_DIMS": lambda imp, op: imp.unary(op, "reshape")}
