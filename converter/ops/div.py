"""div: int8 x1 / x2 with numpy-style broadcasting (TFLM DIV, int8: reference_ops::DivElementwise /
BroadcastDivSlow; ONNX Div of two activations or of a constant by an activation).

Float attrs: ``act`` (TFLite's fused activation), ``tflm`` (TFLite: TFLM's host arithmetic). The
tflite-micro package's Prepare computes the multiplier s1 / (s2 s_out) in double (the float32 scales
widened) and QuantizeMultiplier's it; per element the divisor x2 - zp2 becomes a fixed-point
reciprocal (TFLite GetReciprocal; a divisor at its zero point, a real 0, reads GetReciprocal's shift
by 32 as 0 like TFLM's build) and the dividend is scaled by its headroom. The final rounding shift
reaches 32..63 for dividends 0 and +-1: gemmlowp's RoundingDivideByPOT is then undefined in C++, and
TFLM's x86-64 build (the judge) computes (x >> (e - 32)) + (x >= 0): 0 / y gives +1 LSB, +-1 / y
saturates. TFLite models reproduce that (``tflm``); ONNX models round exactly (0). ONNX Div by a
constant stays a mul by the reciprocal (converter/ops/mul.py).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import act_range, binary_quant, onnx_operands
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=True, same_quant_inputs=False,
                    channels="elementwise")
MIN_HEADROOM = 23  # CountLeadingSignBits of a dividend |x1 - zp1| <= 255
MIN_SHIFT = -25  # keeps the final right shift (<= 7 + 31 - shift) below 64


def prepare(op: Op, g: Graph) -> None:
    q1, q2, qy = binary_quant(op, g)
    f = np.float32
    real = float(f(q1.s)) / (float(f(q2.s)) * float(f(qy.s)))  # as the tflite-micro package computes it
    mult, shift = quantize_multiplier(real)
    # The final rescaling shifts right by headroom + reciprocal shift - shift >= 23 - 1 - shift.
    if shift > MIN_HEADROOM - 1:
        raise EdgennError(f"div '{op.name}': the output scale {qy.s} is too small for the input scales {q1.s}, {q2.s}")
    if shift < MIN_SHIFT:
        raise EdgennError(f"div '{op.name}': the output scale {qy.s} is too large for the input scales {q1.s}, {q2.s}")
    act_min, act_max = act_range(op, qy)
    op.options = {"input1_offset": -q1.zp, "input2_offset": -q2.zp, "output_offset": qy.zp,
                  "output_multiplier": mult, "output_shift": shift, "act_min": act_min, "act_max": act_max,
                  "tflm_host_shift": bool(op.attrs.get("tflm", False))}


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)


def _divide(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(a, b)


float_run = fx.binary(_divide)


def _onnx_div(imp, node) -> None:
    if imp.is_const(node.input[1]):
        imp.binary(node, "div")  # a mul by the constant's reciprocal
        return
    ins, lay = onnx_operands(imp, node, list(node.input[:2]))
    imp.add("div", ins, [imp.new_output(node.output[0], lay)], act=(None, None))


def _tflite_div(imp, op) -> None:
    for i in op.inputs[:2]:
        if imp.tensor(i).dtype != "int8":
            imp.fail(op, f"dividing {imp.tensor(i).dtype} tensors is not supported (int8 only)")
    o = op.options
    act = imp.act(op, o.FusedActivationFunction()) if o is not None else (None, None)
    imp.add(op, "div", op.inputs[:2], op.outputs[:1], act=act, tflm=True)


ONNX = {"Div": _onnx_div}
TFLITE = {"DIV": _tflite_div}
