"""squared_difference: int8 (x1 - x2)**2 with numpy-style broadcasting (TFLM int8 SQUARED_DIFFERENCE).

No float attrs. Options follow TFLM's SquaredDifferencePrepare: ADD's rescaling with left_shift 7
(in double), and the output multiplier (2 max(s1, s2))**2 / (2**14 s_out) through QuantizeMultiplier
(it may exceed one). ONNX has no such operator (exporters write Sub then Mul or Pow).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import binary_quant, common_scale_options
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
LEFT_SHIFT = 7  # TFLM: 255**2 << 14 still fits int32


def prepare(op: Op, g: Graph) -> None:
    q1, q2, qy = binary_quant(op, g)
    op.options = common_scale_options(op, q1, q2, LEFT_SHIFT)
    twice_max = 2.0 * max(q1.s, q2.s)
    # TFLM: (1 << 14) * output scale is a float32 product, widened to double for the division.
    mo, sho = quantize_multiplier(twice_max * twice_max / float(np.float32(1 << (2 * LEFT_SHIFT)) * np.float32(qy.s)))
    if sho > 31:
        raise EdgennError(f"squared_difference '{op.name}': the output scale {qy.s} is too small for the inputs' "
                          f"scales {q1.s}, {q2.s}")
    op.options.update(output_offset=qy.zp, output_multiplier=mo, output_shift=sho)


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)


float_run = fx.binary(lambda a, b: (a - b) * (a - b))

ONNX: dict = {}
TFLITE = {"SQUARED_DIFFERENCE": lambda imp, op: imp.add(op, "squared_difference", op.inputs[:2], op.outputs[:1])}
