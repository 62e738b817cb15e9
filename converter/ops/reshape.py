"""reshape: same bytes, new shape (TFLM Reshape: a copy, or nothing when the buffers coincide).

The new shape is the output tensor's shape; options are empty.
"""
from __future__ import annotations

from edgenn.converter.graph import Graph, Op
from edgenn.errors import EdgennError

OUTPUT_QUANT = "same_as_input"


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if x.size != y.size:
        raise EdgennError(f"reshape '{op.name}': input shape {x.shape} and output shape {y.shape} "
                          "hold different numbers of elements")
    if x.dtype != y.dtype:
        raise EdgennError(f"reshape '{op.name}': input is {x.dtype}, output {y.dtype}")
    op.options = {}
