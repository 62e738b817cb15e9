"""clip: standalone clamp of an int8 tensor; the output keeps the input's quantization.

Float attrs: ``act`` = (lo, hi) in real units (None = unbounded). The bounds are quantized
exactly like a fused activation (TFLite CalculateActivationRangeQuantized). With attr
``requantize`` (TFLite's RELU between differently quantized tensors) the input is first
requantized to the output's parameters, as TFLM's ReluQuantized does.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops.add import _per_tensor, act_range
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

OUTPUT_QUANT = "same_as_input"


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if tuple(x.shape) != tuple(y.shape):
        raise EdgennError(f"clip '{op.name}': input shape {x.shape} differs from output shape {y.shape}")
    qx = _per_tensor(op, g, op.inputs[0])
    qy = _per_tensor(op, g, op.outputs[0])
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
