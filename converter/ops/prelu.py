"""prelu: int8 parametric ReLU, x >= 0 ? x : alpha * x, alpha broadcast against x (TFLM int8 PRELU).

No float attrs; input 1 is alpha (usually a per-channel constant, quantized per tensor like any
constant; it may also be an activation). Options follow TFLM's CalculatePreluParams: multiplier 1
= s_x / s_out and multiplier 2 = s_x * s_alpha / s_out (doubles, QuantizeMultiplier).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import binary_quant, onnx_operands
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")


def prepare(op: Op, g: Graph) -> None:
    qx, qa, qy = binary_quant(op, g)
    m1, s1 = quantize_multiplier(qx.s / qy.s)
    m2, s2 = quantize_multiplier(qx.s * qa.s / qy.s)
    if max(s1, s2) > 30:
        raise EdgennError(f"prelu '{op.name}': the output scale {qy.s} is too small for the input scale {qx.s}")
    op.options = {"input_offset": -qx.zp, "alpha_offset": -qa.zp, "output_offset": qy.zp,
                  "identity_multiplier": m1, "identity_shift": s1, "alpha_multiplier": m2, "alpha_shift": s2}


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)


float_run = fx.binary(lambda x, alpha: np.where(x >= 0, x, x * alpha))


def _onnx_prelu(imp, node) -> None:
    """PRelu(X, slope): slope broadcasts against X (unidirectionally), e.g. PyTorch's (C, 1, 1)
    for an NCHW input, (C,) for (N, C), or a single value."""
    if imp.is_const(node.input[0]):
        imp.fail("PRelu of a constant input is not supported")
    ins, lay = onnx_operands(imp, node, list(node.input[:2]))
    imp.add("prelu", ins, [imp.new_output(node.output[0], lay)])


ONNX = {"PRelu": _onnx_prelu}
TFLITE = {"PRELU": lambda imp, op: imp.add(op, "prelu", op.inputs[:2], op.outputs[:1])}
