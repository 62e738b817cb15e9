"""sub: int8 elementwise subtraction with numpy-style broadcasting (TFLM int8 SUB).

Float attrs: ``act`` = (lo, hi) fused activation bounds in real units (None = unbounded).
Either input may be a constant int8 tensor with its own quantization parameters.
Options follow TFLM's CalculateOpDataSub: ADD's rescaling (left_shift 20, multipliers
s_i / (2 max(s1, s2)) and 2 max / (2**20 s_out)), but computed in float32 and then widened.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import (act_range, binary_quant, common_scale_options,
                                        multiplier_smaller_than_one, onnx_operands)

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=True, same_quant_inputs=False,
                    channels="elementwise")
LEFT_SHIFT = 20  # TFLM: 20 for int8 outputs


def prepare(op: Op, g: Graph) -> None:
    q1, q2, qy = binary_quant(op, g)
    op.options = common_scale_options(op, q1, q2, LEFT_SHIFT, float32=True)
    f = np.float32
    twice_max = f(2) * max(f(q1.s), f(q2.s))
    real_out = float(f(twice_max / f(f(1 << LEFT_SHIFT) * f(qy.s))))
    mo, sho = multiplier_smaller_than_one(op, "output", real_out)
    act_min, act_max = act_range(op, qy)
    op.options.update(output_offset=qy.zp, output_multiplier=mo, output_shift=sho, act_min=act_min, act_max=act_max)


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)


float_run = fx.binary(np.subtract)


def _onnx_sub(imp, node) -> None:
    """Sub: activation - constant becomes an add of the negated constant; constant - activation and
    activation - activation are a sub."""
    if imp.is_const(node.input[1]):
        imp.binary(node, "sub")
        return
    ins, lay = onnx_operands(imp, node, list(node.input[:2]))
    imp.add("sub", ins, [imp.new_output(node.output[0], lay)], act=(None, None))


ONNX = {"Sub": _onnx_sub}
TFLITE = {"SUB": lambda imp, op: imp.binary(op, "sub")}
