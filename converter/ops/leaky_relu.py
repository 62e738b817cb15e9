"""leaky_relu: TFLM int8 leaky ReLU (reference_ops::QuantizeLeakyRelu).

Float attr: ``alpha`` (the slope for negative inputs; ONNX default 0.01, may be negative or > 1).
Input and output are quantized independently (output calibrated). Options follow TFLM's
CalculateOpDataLeakyRelu: two multipliers from the float32 ratios input_scale * alpha /
output_scale and input_scale / output_scale through QuantizeMultiplier, which keeps the sign of a
negative alpha in its multiplier (the kernel then multiplies by its magnitude and negates).
"""
from __future__ import annotations

import math

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import per_tensor, same_shape
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import round_half_away

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")


def quantize_multiplier_signed(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier for any finite real, negative ones included (frexp keeps the sign;
    C's round() is symmetric, so the multiplier is minus that of |real|)."""
    if real == 0.0:
        return 0, 0
    if not math.isfinite(real):
        raise ValueError(f"multiplier must be finite, got {real}")
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    qx = per_tensor(op, g, op.inputs[0])
    qy = per_tensor(op, g, op.outputs[0])
    alpha = np.float32(op.attrs.get("alpha", 0.01))
    if not np.isfinite(alpha):
        raise EdgennError(f"leaky_relu '{op.name}': alpha {alpha} is not finite")
    sx, sy = np.float32(qx.s), np.float32(qy.s)
    # TFLM: static_cast<double>(input scale * alpha / output scale), all float32 operations.
    alpha_real = float(np.float32(np.float32(sx * alpha) / sy))
    identity_real = float(np.float32(sx / sy))
    ma, sa = quantize_multiplier_signed(alpha_real)
    mi, si = quantize_multiplier_signed(identity_real)
    if ma == -(1 << 31):
        # TFLM negates the multiplier (int32 overflow); unreachable from float32 ratios.
        raise EdgennError(f"leaky_relu '{op.name}': alpha multiplier {alpha_real} is not supported")
    for what, m, s in (("alpha", alpha_real, sa), ("identity", identity_real, si)):
        if s > 30:
            raise EdgennError(f"leaky_relu '{op.name}': the {what} rescaling {m} (input scale {qx.s}, output scale "
                              f"{qy.s}) is too large")
    op.options = {
        "input_zero_point": qx.zp,
        "output_zero_point": qy.zp,
        "output_multiplier_alpha": ma,
        "output_shift_alpha": sa,
        "output_multiplier_identity": mi,
        "output_shift_identity": si,
    }


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = xs[0].astype(np.float64)
    return [np.where(x >= 0, x, float(op.attrs.get("alpha", 0.01)) * x)]


def _tflite_leaky_relu(imp, op) -> None:
    # TFLite's LeakyReluOptions default alpha is 0 (an absent table reads as 0 too).
    alpha = float(op.options.Alpha()) if op.options is not None else 0.0
    imp.unary(op, "leaky_relu", alpha=alpha)


ONNX = {"LeakyRelu": lambda imp, node: imp.elementwise(node, "leaky_relu", alpha=float(imp.attr(node, "alpha", 0.01)))}
TFLITE = {"LEAKY_RELU": _tflite_leaky_relu}
