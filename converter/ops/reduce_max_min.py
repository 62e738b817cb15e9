"""reduce_max_min: the largest / smallest int8 value over a set of axes (TFLM REDUCE_MAX / REDUCE_MIN,
ONNX ReduceMax / ReduceMin); on bool tensors the minimum is TFLM's REDUCE_ALL.

Float attrs: ``axes`` (internal layout), ``keep_dims``, ``is_max``. TFLM compares raw int8 values and
requires the output to be quantized like the input (its Eval fails otherwise): the ONNX path gives the
output the input's parameters (``output_quant`` "same_as_input"), a .tflite with different parameters
is refused.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import (onnx_reduce, per_tensor, reduced_shape, resolve_axes,
                                        tflite_reducer_axes)
from edgenn.errors import EdgennError, UnsupportedOpError

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
MAX_RANK = 8  # templates/kernels/edgenn_reduce.h ENN_REDUCE_MAX_RANK


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if not 1 <= len(x.shape) <= MAX_RANK:
        raise UnsupportedOpError(f"reduce_max_min '{op.name}': input rank {len(x.shape)} is not supported "
                                 f"(1..{MAX_RANK})")
    axes = resolve_axes(op, op.attrs.get("axes", ()), len(x.shape))
    reduced_shape(op, g, axes)
    if x.dtype == "bool" or y.dtype == "bool":
        if x.dtype != y.dtype:
            raise EdgennError(f"reduce_max_min '{op.name}': input {x.dtype} and output {y.dtype} differ")
    else:
        qx, qy = per_tensor(op, g, op.inputs[0]), per_tensor(op, g, op.outputs[0])
        if float(np.float32(qx.s)) != float(np.float32(qy.s)) or qx.zp != qy.zp:
            raise UnsupportedOpError(f"reduce_max_min '{op.name}': input ({qx.s}, {qx.zp}) and output ({qy.s}, "
                                     f"{qy.zp}) quantization differ; TFLite Micro's int8 REDUCE_MAX / REDUCE_MIN "
                                     "requires them equal")
    op.options = {"axes": np.asarray(axes, np.int32), "keep_dims": bool(op.attrs.get("keep_dims", False)),
                  "is_max": bool(op.attrs.get("is_max", True))}


def keeps_channels(op: Op, g: Graph) -> bool:
    """Channels pass through unless the last axis is reduced."""
    rank = len(g.tensors[op.inputs[0]].shape)
    return rank - 1 not in resolve_axes(op, op.attrs.get("axes", ()), rank)


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.inputs[0]].size)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    axes = tuple(int(a) + 1 for a in op.attrs.get("axes", ()))
    f = np.max if op.attrs.get("is_max", True) else np.min
    y = f(xs[0], axis=axes) if axes else xs[0]
    return [np.asarray(y).reshape((n,) + tuple(g.tensors[op.outputs[0]].shape))]


# ---------------------------------------------------------------------- import

def _onnx_reduce(is_max: bool):
    return lambda imp, node: onnx_reduce(imp, node, "reduce_max_min", is_max=is_max)


def _tflite_reduce(is_max: bool, dtype: str):
    def handler(imp, op) -> None:
        if imp.tensor(op.inputs[0]).dtype != dtype:
            imp.fail(op, f"input type {imp.tensor(op.inputs[0]).dtype} is not supported ({dtype} only)")
        axes, keep = tflite_reducer_axes(imp, op)
        imp.add(op, "reduce_max_min", op.inputs[:1], op.outputs[:1], axes=axes, keep_dims=keep, is_max=is_max)
    return handler


ONNX = {"ReduceMax": _onnx_reduce(True), "ReduceMin": _onnx_reduce(False)}
TFLITE = {"REDUCE_MAX": _tflite_reduce(True, "int8"), "REDUCE_MIN": _tflite_reduce(False, "int8"),
          "REDUCE_ALL": _tflite_reduce(False, "bool")}
