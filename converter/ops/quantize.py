"""quantize: int8 / int16 -> int8 / int16 / int32 requantization (TFLM Quantize with an integer input,
reference Requantize).

y = clamp(MultiplyByQuantizedMultiplier(x - z_in, M(s_in / s_out)) + z_out) to the output type's range.
There is no fused activation. int16 appears at the boundary of TFLite models with int16 inputs or
outputs (TFLM's keyword benchmark model: QUANTIZE int16 -> int8 first, int8 -> int32 last).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import per_tensor, same_shape
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    qx = per_tensor(op, g, op.inputs[0], ("int8", "int16"))
    qy = per_tensor(op, g, op.outputs[0], ("int8", "int16", "int32"))
    mult, shift = quantize_multiplier(qx.s / qy.s)
    op.options = {
        "input_offset": -qx.zp,
        "output_offset": qy.zp,
        "multiplier": mult,
        "shift": shift,
    }


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    return [xs[0]]  # a requantization changes no real value


def _tflite_quantize(imp, op) -> None:
    """QUANTIZE int8 / int16 -> int8 / int16 inside the graph (float -> int8 at the inputs is the model
    boundary)."""
    src, dst = imp.tensor(op.inputs[0]), imp.tensor(op.outputs[0])
    if src.dtype not in ("int8", "int16") or dst.dtype not in ("int8", "int16", "int32"):
        imp.fail(op, f"quantizing {src.dtype} to {dst.dtype} inside the graph is not supported")
    imp.unary(op, "quantize")


ONNX: dict = {}
TFLITE = {"QUANTIZE": _tflite_quantize}
