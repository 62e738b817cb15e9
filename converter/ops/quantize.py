"""quantize: int8 -> int8 requantization (TFLM Quantize with int8 input, reference Requantize).

y = clamp(MultiplyByQuantizedMultiplier(x - z_in, M(s_in / s_out)) + z_out, -128, 127).
There is no fused activation; the clamp is always the full int8 range.
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
    qx = per_tensor(op, g, op.inputs[0])
    qy = per_tensor(op, g, op.outputs[0])
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
    """QUANTIZE int8 -> int8 inside the graph (float -> int8 at the inputs is the model boundary)."""
    src = imp.tensor(op.inputs[0])
    if src.dtype != "int8":
        imp.fail(op, f"quantizing from {src.dtype} inside the graph is not supported")
    imp.unary(op, "quantize")


ONNX: dict = {}
TFLITE = {"QUANTIZE": _tflite_quantize}
