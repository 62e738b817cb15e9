"""add: int8 elementwise addition with numpy-style broadcasting (TFLM int8 Add).

Float attrs: ``act`` = (lo, hi) fused activation bounds in real units (None = unbounded).
Either input may be a constant int8 tensor with its own quantization parameters.
Options follow TFLM's CalculateOpDataAdd: both inputs are rescaled to a common fixed-point scale
(``left_shift`` = 20, multipliers s_i / (2 max(s1, s2))), summed, and requantized to the output.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import act_range, check_binary_shapes, per_tensor
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=True, same_quant_inputs=False,
                    channels="elementwise")
LEFT_SHIFT = 20  # TFLM: 20 for int8 outputs (15 for int16)


def _smaller_than_one(op: Op, what: str, real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplierSmallerThanOneExp, with a user error instead of an abort."""
    if not 0.0 < real < 1.0:
        raise EdgennError(f"{op.type} '{op.name}': {what} multiplier {real!r} is outside (0, 1); "
                          "the scales of the inputs and the output are incompatible")
    m, s = quantize_multiplier(real)
    if s > 0:
        raise EdgennError(f"{op.type} '{op.name}': {what} multiplier {real!r} rounds to 1.0")
    return m, s


def prepare(op: Op, g: Graph) -> None:
    check_binary_shapes(op, g)
    q1 = per_tensor(op, g, op.inputs[0])
    q2 = per_tensor(op, g, op.inputs[1])
    qy = per_tensor(op, g, op.outputs[0])
    # float32 scales widened to double, exactly as TFLM does.
    s1, s2, sy = q1.s, q2.s, qy.s
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = _smaller_than_one(op, "input 1", s1 / twice_max)
    m2, sh2 = _smaller_than_one(op, "input 2", s2 / twice_max)
    mo, sho = _smaller_than_one(op, "output", twice_max / ((1 << LEFT_SHIFT) * sy))
    act_min, act_max = act_range(op, qy)
    op.options = {
        "left_shift": LEFT_SHIFT,
        "input1_offset": -q1.zp, "input1_multiplier": m1, "input1_shift": sh1,
        "input2_offset": -q2.zp, "input2_multiplier": m2, "input2_shift": sh2,
        "output_offset": qy.zp, "output_multiplier": mo, "output_shift": sho,
        "act_min": act_min, "act_max": act_max,
    }


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)


float_run = fx.binary(np.add)

ONNX = {"Add": lambda imp, node: imp.binary(node, "add"), "Sub": lambda imp, node: imp.binary(node, "sub")}
TFLITE = {"ADD": lambda imp, op: imp.binary(op, "add")}
