"""cumsum: running sums of int8 values along one axis (TFLM CUMSUM, int8: reference_ops::CumSum; ONNX
CumSum with exclusive and reverse).

Float attrs: ``axis`` (internal layout), ``exclusive``, ``reverse``, ``tflm`` (TFLite: TFLM's
arithmetic exactly). TFLM's Prepare rescales every input to ((x - zero point) << 20) * 1/2 and the
int32 running sum by 2 s_in / (2^20 s_out); its kernel starts each running sum at the scaled input
offset (-zero point << 19) rather than 0 and lets it wrap, both kept for TFLite models. ONNX models
start at 0 and use a left shift small enough that no sum along the axis can leave int32 (the
rescaled inputs are exact multiples of 2^(left_shift - 1), so the sums are exact; one rounding at
the output).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import multiplier_smaller_than_one, per_tensor, same_shape
from edgenn.errors import EdgennError

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
TFLM_LEFT_SHIFT = 20  # kCumSumIntegerShift


def _left_shift(depth: int) -> int:
    """The largest left shift <= TFLM's whose sums of ``depth`` rescaled values, each at most
    255 * 2^(left_shift - 1), stay inside int32."""
    ls = TFLM_LEFT_SHIFT
    while ls > 1 and depth * 255 * (1 << (ls - 1)) >= 1 << 31:
        ls -= 1
    return ls


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    x = g.tensors[op.inputs[0]]
    qx, qy = per_tensor(op, g, op.inputs[0]), per_tensor(op, g, op.outputs[0])
    rank = len(x.shape)
    axis = int(op.attrs.get("axis", 0))
    if not 0 <= axis < rank:
        raise EdgennError(f"cumsum '{op.name}': axis {axis} is out of range for input rank {rank}")
    tflm = bool(op.attrs.get("tflm", False))
    ls = TFLM_LEFT_SHIFT if tflm else _left_shift(int(x.shape[axis]))
    s_in, s_out = float(np.float32(qx.s)), float(np.float32(qy.s))
    m_in, sh_in = multiplier_smaller_than_one(op, "input", s_in / (2 * s_in))
    m_out, sh_out = multiplier_smaller_than_one(op, "output", 2 * s_in / ((1 << ls) * s_out))
    # TFLM: accumulator = MultiplyByQuantizedMultiplierSmallerThanOneExp(input_offset << 20, ...)
    init = (-qx.zp) * (1 << (ls - 1)) if tflm else 0
    op.options = {"axis": axis, "exclusive": bool(op.attrs.get("exclusive", False)),
                  "reverse": bool(op.attrs.get("reverse", False)), "left_shift": ls, "input_offset": -qx.zp,
                  "input_multiplier": m_in, "input_shift": sh_in, "accumulator_init": init,
                  "output_offset": qy.zp, "output_multiplier": m_out, "output_shift": sh_out,
                  "act_min": -128, "act_max": 127}


def keeps_channels(op: Op, g: Graph) -> bool:
    """Channels pass through unless the sums run along the last axis."""
    return int(op.attrs.get("axis", 0)) != len(g.tensors[op.inputs[0]].shape) - 1


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.inputs[0]].size)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    a = int(op.attrs.get("axis", 0)) + 1
    x = np.asarray(xs[0], np.float64)
    if op.attrs.get("reverse", False):
        x = np.flip(x, axis=a)
    y = np.cumsum(x, axis=a)
    if op.attrs.get("exclusive", False):
        y = y - x
    return [np.flip(y, axis=a) if op.attrs.get("reverse", False) else y]


# ---------------------------------------------------------------------- import

def _onnx_cumsum(imp, node) -> None:
    rank = len(imp.shape(node.input[0]))
    axis = np.asarray(imp.const(node.input[1], "axis")).reshape(-1)
    if axis.size != 1 or not -rank <= int(axis[0]) < rank:
        imp.fail(f"axis {axis.tolist()} must be one value in {-rank}..{rank - 1}")
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    y = imp.new_output(node.output[0], lay)
    imp.add("cumsum", [x], [y], axis=lay.index(int(axis[0]) % rank), exclusive=bool(imp.attr(node, "exclusive", 0)),
            reverse=bool(imp.attr(node, "reverse", 0)))


def _tflite_cumsum(imp, op) -> None:
    if imp.tensor(op.inputs[0]).dtype != "int8":
        imp.fail(op, f"input type {imp.tensor(op.inputs[0]).dtype} is not supported (int8 only)")
    axis = imp.const(op.inputs[1])
    rank = len(imp.shape(op.inputs[0]))
    if axis is None or axis.dtype != np.int32 or axis.size != 1 or not -rank <= int(axis.reshape(-1)[0]) < rank:
        imp.fail(op, f"the axis must be one constant int32 value in {-rank}..{rank - 1} (as TFLite Micro requires)")
    o = op.options
    imp.add(op, "cumsum", op.inputs[:1], op.outputs[:1], axis=int(axis.reshape(-1)[0]) % rank, tflm=True,
            exclusive=bool(o.Exclusive()) if o is not None else False,
            reverse=bool(o.Reverse()) if o is not None else False)


ONNX = {"CumSum": _onnx_cumsum}
TFLITE = {"CUMSUM": _tflite_cumsum}
