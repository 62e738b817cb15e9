"""logistic: TFLM int8 sigmoid (reference_integer_ops::Logistic).

No float attrs. The output quantization is fixed: scale 1/256, zero point -128. Options follow
TFLM's CalculateArithmeticOpDataLogistic: the input scale times 2**27 (kInputIntegerBits = 4) split
by frexp into a Q31 multiplier and a left shift, and input_range_radius =
CalculateInputRadius(4, input_left_shift, 31) beyond which the output saturates.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op, QParams
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import input_scaling_options
from edgenn.errors import EdgennError

TRAITS = RuleTraits(output_quant="fixed", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
INPUT_INTEGER_BITS = 4


def fixed_output_qparams(op: Op, g: Graph) -> QParams:
    return QParams.per_tensor(1.0 / 256.0, -128)


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if tuple(x.shape) != tuple(y.shape):
        raise EdgennError(f"logistic '{op.name}': input {x.shape} and output {y.shape} must have the same shape")
    if y.quant is None or y.quant.zp != -128:
        raise EdgennError(f"logistic '{op.name}': int8 output must have zero point -128 (scale 1/256)")
    op.options = input_scaling_options(op, x.quant, INPUT_INTEGER_BITS)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    # the tanh form does not overflow for large |x|
    return [0.5 * (1.0 + np.tanh(0.5 * xs[0].astype(np.float64)))]


ONNX = {"Sigmoid": lambda imp, node: imp.elementwise(node, "logistic")}
TFLITE = {"LOGISTIC": lambda imp, op: imp.unary(op, "logistic")}
