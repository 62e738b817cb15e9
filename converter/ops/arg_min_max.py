"""arg_min_max: the index of the largest / smallest int8 value along one axis (TFLM ARG_MAX /
ARG_MIN, ONNX ArgMax / ArgMin).

Float attrs: ``axis`` (internal layout), ``is_arg_max``, ``select_last_index`` (ONNX: ties go to the
last index; TFLM and ONNX's default: to the first). The scale is positive, so comparing the raw int8
values orders them as their real values; the output holds integers (int32 from TFLite, int64 from
ONNX), not quantized (``output_quant`` "none"). TFLM's ARG_MAX / ARG_MIN write int32 only: a .tflite
declaring an int64 output (TensorFlow's default output_type) is refused with that reason.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import onnx_reduce_io, per_tensor, reduced_shape
from edgenn.errors import EdgennError

TRAITS = RuleTraits(output_quant="none", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
OUTPUT_DTYPES = ("int32", "int64")


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    per_tensor(op, g, op.inputs[0])
    rank = len(x.shape)
    axis = int(op.attrs.get("axis", 0))
    if not 0 <= axis < rank:
        raise EdgennError(f"arg_min_max '{op.name}': axis {axis} is out of range for input rank {rank}")
    if y.dtype not in OUTPUT_DTYPES or (y.quant is not None and np.asarray(y.quant.scale).size):
        raise EdgennError(f"arg_min_max '{op.name}': the output must be unquantized int32 or int64, got {y.dtype}")
    reduced_shape(op, g, [axis])
    op.options = {"axis": axis, "is_arg_max": bool(op.attrs.get("is_arg_max", True)),
                  "select_last_index": bool(op.attrs.get("select_last_index", False))}


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.inputs[0]].size)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    a = int(op.attrs.get("axis", 0)) + 1
    x = xs[0] if op.attrs.get("is_arg_max", True) else -np.asarray(xs[0])
    if op.attrs.get("select_last_index", False):
        idx = x.shape[a] - 1 - np.argmax(np.flip(x, axis=a), axis=a)
    else:
        idx = np.argmax(x, axis=a)
    return [idx.astype(g.tensors[op.outputs[0]].dtype).reshape((n,) + tuple(g.tensors[op.outputs[0]].shape))]


# ---------------------------------------------------------------------- import

def _onnx_arg(is_max: bool):
    def handler(imp, node) -> None:
        rank = len(imp.shape(node.input[0]))
        axis = int(imp.attr(node, "axis", 0))
        if not -rank <= axis < rank:
            imp.fail(f"axis {axis} is out of range for rank {rank}")
        keep = bool(imp.attr(node, "keepdims", 1))
        x, y, axes = onnx_reduce_io(imp, node, [axis % rank], keep)
        imp.g.tensors[y].dtype = "int64"
        imp.add("arg_min_max", [x], [y], axis=axes[0], is_arg_max=is_max,
                select_last_index=bool(imp.attr(node, "select_last_index", 0)))
    return handler


def _tflite_arg(is_max: bool):
    def handler(imp, op) -> None:
        code = "ARG_MAX" if is_max else "ARG_MIN"
        x, y = imp.tensor(op.inputs[0]), imp.tensor(op.outputs[0])
        if x.dtype != "int8":
            imp.fail(op, f"input type {x.dtype} is not supported (int8 only)")
        if y.dtype != "int32":
            imp.fail(op, f"TFLite Micro's {code} kernel writes int32 indices only, the model declares {y.dtype} "
                         "(re-export with output_type=tf.int32)")
        axis = imp.const(op.inputs[1])
        if axis is None or axis.dtype != np.int32 or axis.size != 1:
            imp.fail(op, "the axis must be one constant int32 value (as TFLite Micro requires)")
        rank = len(x.shape)
        a = int(axis.reshape(-1)[0])
        if not -rank <= a < rank:
            imp.fail(op, f"axis {a} is out of range for rank {rank}")
        imp.add(op, "arg_min_max", op.inputs[:1], op.outputs[:1], axis=a % rank, is_arg_max=is_max)
    return handler


ONNX = {"ArgMax": _onnx_arg(True), "ArgMin": _onnx_arg(False)}
TFLITE = {"ARG_MAX": _tflite_arg(True), "ARG_MIN": _tflite_arg(False)}
