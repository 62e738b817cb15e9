"""mul: int8 elementwise multiplication with numpy-style broadcasting (TFLM int8 Mul).

Float attrs: ``act`` = (lo, hi). Either input may be a constant int8 tensor with its own
quantization parameters. Options follow TFLM's CalculateOpDataMul: one real multiplier
s1 * s2 / s_out applied to (x1 - z1) * (x2 - z2).
"""
from __future__ import annotations

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops.add import _per_tensor, act_range, check_binary_shapes
from edgenn.runtime_py.fixedpoint import quantize_multiplier

OUTPUT_QUANT = "calibrated"


def prepare(op: Op, g: Graph) -> None:
    check_binary_shapes(op, g)
    q1 = _per_tensor(op, g, op.inputs[0])
    q2 = _per_tensor(op, g, op.inputs[1])
    qy = _per_tensor(op, g, op.outputs[0])
    mult, shift = quantize_multiplier(q1.s * q2.s / qy.s)
    act_min, act_max = act_range(op, qy)
    op.options = {
        "input1_offset": -q1.zp,
        "input2_offset": -q2.zp,
        "output_offset": qy.zp,
        "output_multiplier": mult,
        "output_shift": shift,
        "act_min": act_min,
        "act_max": act_max,
    }


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)
