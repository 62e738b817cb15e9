"""softmax: TFLM int8 softmax over the last axis (reference_ops::Softmax<int8_t, int8_t>).

Float attr: ``beta`` (default 1.0). The output quantization is fixed: scale 1/256, zero point -128.
Options follow TFLM's CalculateSoftmaxParams: input_multiplier / input_left_shift from
PreprocessSoftmaxScaling(beta, input_scale, kScaledDiffIntegerBits = 5) and
diff_min = -CalculateInputRadius(5, input_left_shift).

TFLM aborts on rows whose sum of exponentials (in real terms) reaches 512: its reciprocal
exponent check TFLITE_CHECK(exponent <= 31) fails. That cannot happen for rows shorter than 512;
for longer rows it depends on the data. edgenn's kernels output -128 for such a row (every
probability is below 1/512, under half an output step).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op, QParams
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import onnx_softmax
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import calculate_input_radius, preprocess_softmax_scaling

TRAITS = RuleTraits(output_quant="fixed", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
SCALED_DIFF_INTEGER_BITS = 5
# Every element at the row maximum adds 2**19 to TFLM's int32 sum of exponentials (Q12.19):
# from 4096 elements on that sum can overflow int32.
MAX_DEPTH = 4095


def fixed_output_qparams(op: Op, g: Graph) -> QParams:
    return QParams.per_tensor(1.0 / 256.0, -128)


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if len(x.shape) < 1 or tuple(x.shape) != tuple(y.shape):
        raise EdgennError(f"softmax '{op.name}': input {x.shape} and output {y.shape} must have the same shape")
    if not 1 <= x.shape[-1] <= MAX_DEPTH:
        raise EdgennError(f"softmax '{op.name}': rows of {x.shape[-1]} values are not supported (1..{MAX_DEPTH}: "
                          "TFLM's int8 softmax sums the exponentials in int32 Q12.19, which overflows beyond); "
                          "a classifier can end at its logits instead (the same argmax)")
    if y.dtype == "int16":
        # TFLite only (int8 -> int16, TFLM's Softmax<int8_t, int16_t>): TF_LITE_ENSURE_NEAR on the scale.
        if y.quant is None or y.quant.zp != -32768 or abs(y.quant.s - 1.0 / 65536.0) > 0.001 / 65536.0:
            raise EdgennError(f"softmax '{op.name}': int16 output must have scale 1/65536 and zero point -32768")
    elif y.quant is None or y.quant.zp != -128 or np.float32(y.quant.s) != np.float32(1.0 / 256.0):
        raise EdgennError(f"softmax '{op.name}': int8 output must have scale 1/256 and zero point -128")
    # TFLite stores beta as float32 and widens it to double.
    beta = float(np.float32(op.attrs.get("beta", 1.0)))
    try:
        mult, shift = preprocess_softmax_scaling(beta, x.quant.s, SCALED_DIFF_INTEGER_BITS)
    except ValueError:
        raise EdgennError(f"softmax '{op.name}': beta * input scale ({beta} * {x.quant.s}) is too small for TFLM's "
                          "int8 softmax (must exceed 2**-26)") from None
    op.options = {
        "input_multiplier": mult,
        "input_left_shift": shift,
        "diff_min": -calculate_input_radius(SCALED_DIFF_INTEGER_BITS, shift),
    }


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = xs[0].astype(np.float64) * float(op.attrs.get("beta", 1.0))
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return [e / e.sum(axis=-1, keepdims=True)]


def _tflite_softmax(imp, op) -> None:
    beta = float(op.options.Beta()) if op.options is not None else 1.0
    imp.unary(op, "softmax", beta=beta)


ONNX = {"Softmax": lambda imp, node: onnx_softmax(imp, node, "softmax", beta=1.0)}
TFLITE = {"SOFTMAX": _tflite_softmax}
