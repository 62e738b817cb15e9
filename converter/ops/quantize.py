"""quantize: int8 -> int8 requantization (TFLM Quantize with int8 input, reference Requantize).

y = clamp(MultiplyByQuantizedMultiplier(x - z_in, M(s_in / s_out)) + z_out, -128, 127).
There is no fused activation; the clamp is always the full int8 range.
"""
from __future__ import annotations

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops.add import _per_tensor
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

OUTPUT_QUANT = "calibrated"


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if tuple(x.shape) != tuple(y.shape):
        raise EdgennError(f"quantize '{op.name}': input shape {x.shape} differs from output shape {y.shape}")
    qx = _per_tensor(op, g, op.inputs[0])
    qy = _per_tensor(op, g, op.outputs[0])
    mult, shift = quantize_multiplier(qx.s / qy.s)
    op.options = {
        "input_offset": -qx.zp,
        "output_offset": qy.zp,
        "multiplier": mult,
        "shift": shift,
    }
