"""clip: standalone clamp of an int8 tensor; the output keeps the input's quantization.

Float attrs: ``act`` = (lo, hi) in real units (None = unbounded). The bounds are quantized
exactly like a fused activation (TFLite CalculateActivationRangeQuantized).
"""
from __future__ import annotations

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops.add import _per_tensor, act_range
from edgenn.errors import EdgennError

OUTPUT_QUANT = "same_as_input"


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if tuple(x.shape) != tuple(y.shape):
        raise EdgennError(f"clip '{op.name}': input shape {x.shape} differs from output shape {y.shape}")
    qx = _per_tensor(op, g, op.inputs[0])
    qy = _per_tensor(op, g, op.outputs[0])
    if not qx.same_as(qy):
        raise EdgennError(f"clip '{op.name}': input and output quantization differ "
                          f"(scale {qx.s} zp {qx.zp} vs scale {qy.s} zp {qy.zp}); clip keeps the input's "
                          "parameters, insert a quantize op to change them")
    act_min, act_max = act_range(op, qy)
    op.options = {"act_min": act_min, "act_max": act_max}
