"""clip: standalone clamp of an int8 tensor; the output keeps the input's quantization.

Float attrs: ``act`` = (lo, hi) in real units (None = unbounded). The bounds are quantized
exactly like a fused activation (TFLite CalculateActivationRangeQuantized). With attr
``requantize`` (TFLite's RELU between differently quantized tensors) the input is first
requantized to the output's parameters, as TFLM's ReluQuantized does.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import act_range, per_tensor, same_shape
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

# A standalone clip has no *fused* activation: its bounds are the operation itself.
TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    qx = per_tensor(op, g, op.inputs[0])
    qy = per_tensor(op, g, op.outputs[0])
    if op.attrs.get("requantize") and not qx.same_as(qy):
        # TFLM CalculateReluOpData: the scale ratio is divided in float32, then widened.
        mult, shift = quantize_multiplier(float(np.float32(qx.s) / np.float32(qy.s)))
        act_min, act_max = act_range(op, qy)
        op.options = {"act_min": act_min, "act_max": act_max, "requantize": True, "input_offset": -qx.zp,
                      "output_offset": qy.zp, "multiplier": mult, "shift": shift}
        return
    if not qx.same_as(qy):
        raise EdgennError(f"clip '{op.name}': input and output quantization differ "
                          f"(scale {qx.s} zp {qx.zp} vs scale {qy.s} zp {qy.zp}); clip keeps the input's "
                          "parameters, insert a quantize op to change them")
    act_min, act_max = act_range(op, qy)
    op.options = {"act_min": act_min, "act_max": act_max}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    act = op.attrs.get("act") or (None, None)
    return [fx.clamp(xs[0], (act[0], act[1]))]


# ---------------------------------------------------------------------- import

def _onnx_clip(imp, node) -> None:
    if imp.opset < 11:
        lo, hi = imp.attr(node, "min", None), imp.attr(node, "max", None)
    else:
        lo_c, hi_c = imp.optional_const(node, 1), imp.optional_const(node, 2)
        lo = None if lo_c is None else float(np.asarray(lo_c).reshape(-1)[0])
        hi = None if hi_c is None else float(np.asarray(hi_c).reshape(-1)[0])
    if lo is not None and hi is not None and lo > hi:
        lo = hi  # ONNX: min(max(x, lo), hi) is hi everywhere
    imp.elementwise(node, "clip", act=(lo, hi))


def _tflite_relu(lo: float, hi: float | None):
    def handler(imp, op) -> None:
        x, y = imp.tensor(op.inputs[0]), imp.tensor(op.outputs[0])
        if x.quant.same_as(y.quant):
            imp.unary(op, "clip", act=(lo, hi))
        elif op.code == "RELU":
            # TFLM's RELU requantizes; RELU6's Prepare ignores the output's parameters, so a
            # RELU6 that changes them has no well-defined TFLM result to match.
            imp.unary(op, "clip", act=(lo, hi), requantize=True)
        else:
            imp.fail(op, "a standalone activation that changes the quantization is not supported")
    return handler


ONNX = {"Relu": lambda imp, node: imp.elementwise(node, "clip", act=(0.0, None)), "Clip": _onnx_clip}
TFLITE = {"RELU": _tflite_relu(0.0, None), "RELU6": _tflite_relu(0.0, 6.0), "RELU_N1_TO_1": _tflite_relu(-1.0, 1.0)}
