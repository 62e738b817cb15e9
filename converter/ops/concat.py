"""concat: concatenation of int8 tensors along one axis (TFLM Concatenation).

Float attrs: ``axis`` (negative counts from the end). TFLM's int8 kernel is a plain copy: its
Prepare requires every input to have exactly the output's scale and zero point, and so does
this rule. The output is calibrated on its own (it covers the union of the inputs' ranges);
``SAME_QUANT_INPUTS`` makes the quantizer give each input the output's parameters, inserting a
``quantize`` op in front of any input whose parameters differ (constants are requantized).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import per_tensor
from edgenn.errors import EdgennError, UnsupportedOpError

# All inputs must carry the output's quantization parameters (no rescaling inside the kernel):
# converter/quantize.py inserts ``quantize`` ops (or requantizes constants) where they differ.
TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=True,
                    channels="concat")


def prepare(op: Op, g: Graph) -> None:
    y = g.tensors[op.outputs[0]]
    rank = len(y.shape)
    if rank == 0:
        raise UnsupportedOpError(f"concat '{op.name}': scalars cannot be concatenated")
    axis = int(op.attrs.get("axis", 0))
    if axis < 0:
        axis += rank
    if not 0 <= axis < rank:
        raise EdgennError(f"concat '{op.name}': axis {op.attrs.get('axis')} is out of range for rank {rank}")
    qy = per_tensor(op, g, op.outputs[0])
    total = 0
    if not op.inputs or any(not t for t in op.inputs):
        raise EdgennError(f"concat '{op.name}': needs at least one input")
    for name in op.inputs:
        x = g.tensors[name]
        if len(x.shape) != rank or any(x.shape[d] != y.shape[d] for d in range(rank) if d != axis):
            raise EdgennError(f"concat '{op.name}': input {name!r} of shape {x.shape} does not fit output "
                              f"shape {y.shape} along axis {axis}")
        total += x.shape[axis]
        qx = per_tensor(op, g, name)
        if not qx.same_as(qy):
            raise EdgennError(
                f"concat '{op.name}': input {name!r} is quantized with scale {qx.s} zero point {qx.zp} but the "
                f"output with scale {qy.s} zero point {qy.zp}; TFLM's int8 concatenation requires equal "
                "parameters (requantize the input with a quantize op first)")
    if total != y.shape[axis]:
        raise EdgennError(f"concat '{op.name}': inputs add up to {total} along axis {axis}, output has {y.shape[axis]}")
    op.options = {"axis": axis}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    rank = len(g.tensors[op.outputs[0]].shape)
    axis = int(op.attrs.get("axis", 0))
    axis = (axis + rank if axis < 0 else axis) + 1
    parts = [np.broadcast_to(v, (n,) + v.shape) if g.tensors[name].is_const else v
             for v, name in zip(xs, op.inputs)]
    return [np.concatenate(parts, axis=axis)]


def _onnx_concat(imp, node) -> None:
    names = [n for n in node.input if n]
    rank = len(imp.shape(names[0]))
    axis = int(imp.attr(node, "axis")) % rank
    act = next((n for n in names if not imp.is_const(n)), names[0])
    lay = imp.layout(act)
    xs = [imp.get(n, lay) for n in names]
    y = imp.new_output(node.output[0], lay)
    imp.add("concat", xs, [y], axis=lay.index(axis))


def _tflite_concat(imp, op) -> None:
    o = op.options
    rank = len(imp.shape(op.outputs[0]))
    if o.FusedActivationFunction() != 0:
        imp.fail(op, "a fused activation on CONCATENATION is not supported")
    imp.add(op, "concat", op.inputs, op.outputs[:1], axis=int(o.Axis()) % rank)


def _tflite_pack(imp, op) -> None:
    """PACK: each input gets the new axis by a reshape (no copy; it carries the output's parameters,
    since TFLM's Pack copies bytes whatever the inputs' parameters), then a concat along it."""
    o = op.options
    y = imp.tensor(op.outputs[0])
    rank = len(y.shape)
    axis = (int(o.Axis()) if o is not None else 0) % rank
    parts = []
    for i in op.inputs:
        x = imp.tensor(i)
        shape = tuple(x.shape[:axis]) + (1,) + tuple(x.shape[axis:])
        if x.is_const:
            imp.fail(op, "constant inputs are not supported")
        t = imp.g.add_tensor(imp.g.unique(f"{y.name}#pack{len(parts)}"), shape, "int8", quant=y.quant)
        imp.g.add_op("reshape", t.name, [x.name], [t.name])
        parts.append(t.name)
    imp.g.add_op("concat", y.name, parts, [y.name], axis=axis)


ONNX = {"Concat": _onnx_concat}
TFLITE = {"CONCATENATION": _tflite_concat, "PACK": _tflite_pack}
