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
from edgenn.converter.ops.common import (act_range, binary_quant, common_scale_options,
                                        multiplier_smaller_than_one)

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=True, same_quant_inputs=False,
                    channels="elementwise")
LEFT_SHIFT = 20  # TFLM: 20 for int8 outputs (15 for int16)


def prepare(op: Op, g: Graph) -> None:
    q1, q2, qy = binary_quant(op, g)
    # float32 scales widened to double, exactly as TFLM does.
    op.options = common_scale_options(op, q1, q2, LEFT_SHIFT)
    twice_max = 2.0 * max(q1.s, q2.s)
    mo, sho = multiplier_smaller_than_one(op, "output", twice_max / ((1 << LEFT_SHIFT) * qy.s))
    act_min, act_max = act_range(op, qy)
    op.options.update(output_offset=qy.zp, output_multiplier=mo, output_shift=sho, act_min=act_min, act_max=act_max)


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)


float_run = fx.binary(np.add)

ONNX = {"Add": lambda imp, node: imp.binary(node, "add")}
TFLITE = {"ADD": lambda imp, op: imp.binary(op, "add")}
