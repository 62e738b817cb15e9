"""split: cut an int8 tensor along one axis into consecutive pieces (TFLM Split, SplitV and Unpack;
ONNX Split), one output each, rank 1..6.

Float attrs: ``axis`` (internal layout; negative counts from the end). An output's extent along the
axis follows from its shape: the input's shape with that extent, or (Unpack) without the axis
(extent 1). The kernel copies bytes: outputs keep the input's parameters. When no axis before the
split axis has extent > 1, every output is a contiguous byte range of the input and is planned as
an alias of it (no copy).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import byte_copy
from edgenn.errors import EdgennError

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
MAX_RANK = 6


def extents(op: Op, g: Graph) -> tuple[int, list[int]]:
    """(axis, each output's extent along it), checked against the shapes."""
    x = g.tensors[op.inputs[0]]
    rank = len(x.shape)
    axis = int(op.attrs.get("axis", 0))
    if not -rank <= axis < rank:
        raise EdgennError(f"split '{op.name}': axis {axis} is out of range for rank {rank}")
    axis %= rank
    res = []
    for name in op.outputs:
        y = tuple(g.tensors[name].shape)
        if len(y) == rank and y[:axis] + y[axis + 1:] == x.shape[:axis] + x.shape[axis + 1:] and y[axis] > 0:
            res.append(int(y[axis]))
        elif y == x.shape[:axis] + x.shape[axis + 1:]:
            res.append(1)
        else:
            raise EdgennError(f"split '{op.name}': output {name!r} of shape {y} is not a piece of the input "
                              f"{x.shape} along axis {axis}")
    if sum(res) != x.shape[axis]:
        raise EdgennError(f"split '{op.name}': the outputs add up to {sum(res)} along axis {axis}, the input has "
                          f"{x.shape[axis]}")
    return axis, res


def prepare(op: Op, g: Graph) -> None:
    byte_copy(op, g, MAX_RANK)
    if not op.outputs:
        raise EdgennError(f"split '{op.name}': needs at least one output")
    axis, _ = extents(op, g)
    op.options = {"axis": axis}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    axis, ext = extents(op, g)
    x = np.broadcast_to(xs[0], (n,) + tuple(g.tensors[op.inputs[0]].shape)) if g.tensors[op.inputs[0]].is_const \
        else xs[0]
    parts = np.split(x, np.cumsum(ext)[:-1], axis=axis + 1)
    return [p.reshape((n,) + tuple(g.tensors[name].shape)) for p, name in zip(parts, op.outputs)]


# ---------------------------------------------------------------------- import

def _onnx_split(imp, node) -> None:
    """Split: sizes from the ``split`` attribute (opset < 13) or input (13+), else equal parts
    (opset 18 ``num_outputs``: the last part smaller). The axis is mapped through the stored layout."""
    shape = imp.shape(node.input[0])
    rank = len(shape)
    axis = int(imp.attr(node, "axis", 0))
    if not -rank <= axis < rank:
        imp.fail(f"axis {axis} is out of range for rank {rank}")
    axis %= rank
    outs = list(node.output)
    if imp.opset < 13:
        sizes = imp.attr(node, "split", None)
    else:
        c = imp.optional_const(node, 1)
        sizes = None if c is None else c.reshape(-1).tolist()
    n = shape[axis]
    if sizes is None:
        k = int(imp.attr(node, "num_outputs", len(outs)))
        part = -(-n // k)
        sizes = [part] * (k - 1) + [n - part * (k - 1)]
    sizes = [int(s) for s in sizes]
    if len(sizes) != len(outs) or sum(sizes) != n or any(s <= 0 for s in sizes):
        imp.fail(f"split sizes {sizes} do not cut axis {axis} of extent {n} into {len(outs)} non-empty outputs")
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    ys = []
    for o, s in zip(outs, sizes):
        oshape = tuple(s if d == axis else v for d, v in enumerate(shape))
        if o:
            ys.append(imp.new_output(o, lay, oshape))
        else:  # an unused output still takes its piece
            ys.append(imp.g.add_tensor(imp.g.unique(f"{node.output[0]}_unused"), tuple(oshape[p] for p in lay)).name)
    imp.add("split", [x], ys, axis=lay.index(axis))


def _tflite_split(imp, op) -> None:
    """SPLIT (axis, input), SPLIT_V (input, size_splits, axis) and UNPACK (input; axis option)."""
    if op.code == "UNPACK":
        x = op.inputs[0]
        axis = int(op.options.Axis()) if op.options is not None else 0
    else:
        x, a = (op.inputs[1], op.inputs[0]) if op.code == "SPLIT" else (op.inputs[0], op.inputs[2])
        c = imp.const(a)
        if c is None:
            imp.fail(op, "the axis must be constant (TFLM's kernel needs a constant one too)")
        axis = int(np.asarray(c).reshape(-1)[0])
    imp.add(op, "split", [x], op.outputs, axis=axis)


ONNX = {"Split": _onnx_split}
TFLITE = {"SPLIT": _tflite_split, "SPLIT_V": _tflite_split, "UNPACK": _tflite_split}
