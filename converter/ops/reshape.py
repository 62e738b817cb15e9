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


def stored_reshape(shape_in: tuple[int, ...], have: tuple[int, ...], shape_out: tuple[int, ...]
                   ) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """How to reshape an ONNX value stored in layout ``have`` without going back to the ONNX layout.

    The axes of extent > 1 of both shapes fall into groups of equal products (each group of input
    axes becomes its group of output axes). Where every group's input axes lie side by side and in
    order in the stored tensor, the stored bytes reshape directly, each group's output axes taking
    its place. Returns (the input layout to reshape from, the output's stored layout): the first is
    ``have`` itself or, when a group is out of order, ``have`` with the groups' axes put in order
    (one transpose). Extent-1 axes go first: they move no bytes.
    """
    a = [d for d in range(len(shape_in)) if shape_in[d] != 1]
    b = [d for d in range(len(shape_out)) if shape_out[d] != 1]
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        ga, gb = [a[i]], [b[j]]
        pa, pb = shape_in[a[i]], shape_out[b[j]]
        i, j = i + 1, j + 1
        while pa != pb:
            if pa < pb:
                ga.append(a[i])
                pa *= shape_in[a[i]]
                i += 1
            else:
                gb.append(b[j])
                pb *= shape_out[b[j]]
                j += 1
        groups.append((ga, gb))
    group_of = {d: k for k, (ga, _) in enumerate(groups) for d in ga}
    stored = [d for d in have if shape_in[d] != 1]
    order = list(dict.fromkeys(group_of[d] for d in stored))  # groups by first stored position
    target = [d for k in order for d in groups[k][0]]
    units_in = [d for d in have if shape_in[d] == 1]
    want = tuple(have) if target == stored else tuple(units_in + target)
    moved = [d for k in order for d in groups[k][1]]
    if moved == sorted(moved):  # the output's bytes are in ONNX order: keep its layout
        return want, tuple(range(len(shape_out)))
    units_out = [d for d in range(len(shape_out)) if shape_out[d] == 1]
    return want, tuple(units_out + moved)


def _onnx_reshape(imp, node) -> None:
    """Reshape, Flatten, Squeeze, Unsqueeze on activations: a reshape of the stored bytes when the
    stored layout allows it (the output gets the corresponding layout: a channel shuffle on NHWC
    data stays NHWC), else after one transpose that puts the merged axes in order."""
    out_shape = imp.shapes.get(node.output[0])
    if out_shape is None:
        imp.fail("output shape could not be inferred")
    want, out_lay = stored_reshape(tuple(imp.shape(node.input[0])), imp.layout(node.input[0]), tuple(out_shape))
    x = imp.get(node.input[0], want)
    y = imp.new_output(node.output[0], out_lay)
    imp.add("reshape", [x], [y])


ONNX = {"Flatten": _onnx_reshape, "Reshape": _onnx_reshape, "Squeeze": _onnx_reshape, "Unsqueeze": _onnx_reshape}
TFLITE = {"RESHAPE": lambda imp, op: imp.unary(op, "reshape"), "SQUEEZE": lambda imp, op: imp.unary(op, "reshape"),
          "EXPAND_DIMS": lambda imp, op: imp.unary(op, "reshape")}
