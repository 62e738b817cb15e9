"""l2_normalization: x / ||x||_2 over the last axis (TFLM L2_NORMALIZATION, int8:
reference_integer_ops::L2Normalization; ONNX LpNormalization with p = 2 on any axis).

The int8 kernel sums the squares of x - zero point per row (int32), takes TFLite's fixed-point
inverse square root of that sum and writes MBQM(x - zero point, 1/sqrt, shift + 7): the output is
in units of 1/128 with zero point 0 whatever the output tensor says (TFLM adds no offset; TFLite's
converter fixes those parameters), so the ONNX path quantizes it that way (``output_quant`` "fixed").
An all-zero row gives zeros (TFLM treats a sum below 2 as 1), where ONNX divides 0 by 0.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op, QParams
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import layout_with_axis_last, per_tensor, same_shape
from edgenn.errors import EdgennError, UnsupportedOpError

TRAITS = RuleTraits(output_quant="fixed", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
MAX_DEPTH = (1 << 31) // (255 * 255)  # the int32 sum of squares of TFLM's kernel cannot overflow


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    x = g.tensors[op.inputs[0]]
    qx = per_tensor(op, g, op.inputs[0])
    per_tensor(op, g, op.outputs[0])
    if not x.shape:
        raise EdgennError(f"l2_normalization '{op.name}': a scalar input is not supported")
    if x.shape[-1] > MAX_DEPTH:
        raise UnsupportedOpError(f"l2_normalization '{op.name}': {x.shape[-1]} values per row can overflow the int32 "
                                 f"sum of squares (at most {MAX_DEPTH})")
    op.options = {"input_zero_point": qx.zp}


def fixed_output_qparams(op: Op, g: Graph) -> QParams:
    return QParams(np.array([1.0 / 128.0], np.float32), np.array([0], np.int64))


def macs(op: Op, g: Graph) -> int:
    return 2 * int(g.tensors[op.inputs[0]].size)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = np.asarray(xs[0], np.float64)
    norm = np.sqrt(np.sum(x * x, axis=-1, keepdims=True))
    return [np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)]


# ---------------------------------------------------------------------- import

def _onnx_lp_normalization(imp, node) -> None:
    p = int(imp.attr(node, "p", 2))
    if p != 2:
        imp.fail(f"p={p} is not supported (only the L2 norm, p=2, has an int8 kernel)")
    rank = len(imp.shape(node.input[0]))
    axis = int(imp.attr(node, "axis", -1))
    if not -rank <= axis < rank:
        imp.fail(f"axis {axis} is out of range for rank {rank}")
    lay = layout_with_axis_last(imp, node.input[0], axis % rank)
    x = imp.get(node.input[0], lay)
    imp.add("l2_normalization", [x], [imp.new_output(node.output[0], lay)])


def _tflite_l2_normalization(imp, op) -> None:
    if imp.tensor(op.inputs[0]).dtype != "int8":
        imp.fail(op, f"input type {imp.tensor(op.inputs[0]).dtype} is not supported (int8 only)")
    if len(imp.shape(op.inputs[0])) > 4:
        imp.fail(op, "TFLite Micro's L2_NORMALIZATION takes at most 4 dimensions")
    if op.options is not None and op.options.FusedActivationFunction() != 0:
        imp.fail(op, "a fused activation is not supported (TFLite Micro's kernel has none)")
    imp.unary(op, "l2_normalization")


ONNX = {"LpNormalization": _onnx_lp_normalization}
TFLITE = {"L2_NORMALIZATION": _tflite_l2_normalization}
