"""hard_swish: TFLM int8 hard swish, x * relu6(x + 3) / 6 (reference_ops::HardSwish<int8_t>).

No float attrs; input and output are quantized independently (output calibrated). Options follow
TFLM's HardSwishPrepare: with the "high-resolution" input scale input_scale / 128 (float32), the
output multiplier hires / output_scale and the "relu-ish" multiplier hires / (3 / 32768), each
through QuantizeMultiplier and rounded down to a 16-bit fixed-point multiplier
(DownScaleInt32ToInt16Multiplier). TFLM requires output_multiplier_exponent <= 0, i.e. an
output scale above input_scale / 128.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import per_tensor, same_shape
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import INT32_MAX, quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")


def downscale_int32_to_int16_multiplier(m: int) -> int:
    """TFLite DownScaleInt32ToInt16Multiplier: the Q31 multiplier rounded to Q15 (saturating)."""
    if m < 0:
        raise ValueError(f"negative multiplier {m}")
    if m >= INT32_MAX - (1 << 15):
        return (1 << 15) - 1
    return (m + (1 << 15)) >> 16


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    qx = per_tensor(op, g, op.inputs[0])
    qy = per_tensor(op, g, op.outputs[0])
    f32 = np.float32
    hires_input_scale = f32(f32(1.0) / f32(128.0)) * f32(qx.s)
    reluish_scale = f32(3.0) / f32(32768.0)
    om, oe = quantize_multiplier(float(f32(hires_input_scale / f32(qy.s))))
    rm, re = quantize_multiplier(float(f32(hires_input_scale / reluish_scale)))
    if oe > 0:
        raise EdgennError(f"hard_swish '{op.name}': the output scale {qy.s} must exceed input scale / 128 "
                          f"({qx.s / 128:g}) as TFLM requires (output multiplier exponent {oe} > 0)")
    if re > 31:
        raise EdgennError(f"hard_swish '{op.name}': input scale {qx.s} is out of the supported range")
    op.options = {
        "input_zero_point": qx.zp,
        "output_zero_point": qy.zp,
        "reluish_multiplier_fixedpoint_int16": downscale_int32_to_int16_multiplier(rm),
        "reluish_multiplier_exponent": re,
        "output_multiplier_fixedpoint_int16": downscale_int32_to_int16_multiplier(om),
        "output_multiplier_exponent": oe,
    }


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = xs[0].astype(np.float64)
    return [x * np.clip(x + 3.0, 0.0, 6.0) / 6.0]


def _onnx_hard_swish(imp, node) -> None:
    """HardSwish (opset 14+): x * max(0, min(1, x / 6 + 1 / 2)), TFLite's hard swish."""
    if imp.opset < 14:
        imp.fail(f"HardSwish needs opset 14 or later (the model declares {imp.opset})")
    imp.elementwise(node, "hard_swish")


ONNX = {"HardSwish": _onnx_hard_swish}
TFLITE = {"HARD_SWISH": lambda imp, op: imp.unary(op, "hard_swish")}
