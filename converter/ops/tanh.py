"""tanh: TFLM int8 tanh (reference_integer_ops::Tanh).

No float attrs. The output quantization is fixed: scale 1/128, zero point 0 (TFLM's int8 kernel
ignores the output tensor's parameters and always produces that). Options follow TFLM's
CalculateArithmeticOpData (tanh.cc): the input scale times 2**27 (kInputIntegerBits = 4) split by
frexp into a Q31 multiplier and a left shift, and input_range_radius =
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
OUTPUT_SCALE = 1.0 / 128.0


def fixed_output_qparams(op: Op, g: Graph) -> QParams:
    return QParams.per_tensor(OUTPUT_SCALE, 0)


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if tuple(x.shape) != tuple(y.shape):
        raise EdgennError(f"tanh '{op.name}': input {x.shape} and output {y.shape} must have the same shape")
    if x.quant is None or x.quant.scale.size != 1:
        raise EdgennError(f"tanh '{op.name}': the input must be quantized per tensor")
    if y.quant is None or y.quant.scale.size != 1 or y.quant.zp != 0 \
            or np.float32(y.quant.s) != np.float32(OUTPUT_SCALE):
        raise EdgennError(f"tanh '{op.name}': int8 output must have scale 1/128 and zero point 0 "
                          f"(TFLite's fixed tanh output), got scale {y.quant.s if y.quant else None} "
                          f"zero point {y.quant.zp if y.quant else None}")
    op.options = input_scaling_options(op, x.quant, INPUT_INTEGER_BITS)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    return [np.tanh(xs[0].astype(np.float64))]


ONNX = {"Tanh": lambda imp, node: imp.elementwise(node, "tanh")}
TFLITE = {"TANH": lambda imp, op: imp.unary(op, "tanh")}
