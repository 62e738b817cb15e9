"""log_softmax: TFLM int8 log-softmax over the last axis (reference_ops::LogSoftmax<int8_t>).

No float attrs. The output quantization is fixed: scale 16/256, zero point 127 (log-probabilities
in [-16, 0)). Options follow TFLM's LogSoftmax CalculateOpData: PreprocessLogSoftmaxScalingExp(beta
1, input scale, kScaledDiffIntegerBits 5) gives input_multiplier / input_left_shift and the reverse
scaling divisor / right shift; diff_min = -CalculateInputRadius(5, input_left_shift). ONNX
LogSoftmax on any axis moves the axis last (converter/ops/common.onnx_softmax).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op, QParams
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import onnx_softmax, per_tensor, same_shape
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import calculate_input_radius, preprocess_log_softmax_scaling_exp

TRAITS = RuleTraits(output_quant="fixed", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
SCALED_DIFF_INTEGER_BITS = 5
OUTPUT_SCALE = 16.0 / 256.0
OUTPUT_ZERO_POINT = 127
MAX_DEPTH = 4095  # as softmax: the Q12.19 sum of exponentials must not overflow int32


def fixed_output_qparams(op: Op, g: Graph) -> QParams:
    return QParams.per_tensor(OUTPUT_SCALE, OUTPUT_ZERO_POINT)


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    x = g.tensors[op.inputs[0]]
    if len(x.shape) < 1 or not 1 <= x.shape[-1] <= MAX_DEPTH:
        raise EdgennError(f"log_softmax '{op.name}': rows of {x.shape[-1] if x.shape else 0} values are not "
                          f"supported (1..{MAX_DEPTH})")
    qx = per_tensor(op, g, op.inputs[0])
    qy = per_tensor(op, g, op.outputs[0])
    if qy.zp != OUTPUT_ZERO_POINT or np.float32(qy.s) != np.float32(OUTPUT_SCALE):
        raise EdgennError(f"log_softmax '{op.name}': int8 output must have scale 16/256 and zero point 127 "
                          f"(TFLM), got {qy.s}, {qy.zp}")
    try:
        mult, shift, rdiv, rshift = preprocess_log_softmax_scaling_exp(1.0, qx.s, SCALED_DIFF_INTEGER_BITS)
    except ValueError:
        raise EdgennError(f"log_softmax '{op.name}': input scale {qx.s} is too small for TFLM's int8 "
                          "log-softmax (must exceed 2**-26)") from None
    op.options = {"input_multiplier": mult, "input_left_shift": shift, "reverse_scaling_divisor": rdiv,
                  "reverse_scaling_right_shift": -rshift,
                  "diff_min": -calculate_input_radius(SCALED_DIFF_INTEGER_BITS, shift)}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = xs[0].astype(np.float64)
    z = x - x.max(axis=-1, keepdims=True)
    return [z - np.log(np.exp(z).sum(axis=-1, keepdims=True))]


ONNX = {"LogSoftmax": lambda imp, node: onnx_softmax(imp, node, "log_softmax")}
TFLITE = {"LOG_SOFTMAX": lambda imp, op: imp.unary(op, "log_softmax")}
