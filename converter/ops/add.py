"""add: int8 elementwise addition with numpy-style broadcasting (TFLM int8 Add).

Float attrs: ``act`` = (lo, hi) fused activation bounds in real units (None = unbounded).
Either input may be a constant int8 tensor with its own quantization parameters.
Options follow TFLM's CalculateOpDataAdd: both inputs are rescaled to a common fixed-point scale
(``left_shift`` = 20, multipliers s_i / (2 max(s1, s2))), summed, and requantized to the output.
"""
from __future__ import annotations

from edgenn.converter.graph import Graph, Op
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.fixedpoint import activation_range, quantize_multiplier

OUTPUT_QUANT = "calibrated"
LEFT_SHIFT = 20  # TFLM: 20 for int8 outputs (15 for int16)
MAX_RANK = 6


def broadcast_shape(op: Op, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The numpy broadcast of two shapes, or a one-line error naming the operator."""
    r = max(len(a), len(b))
    a1 = (1,) * (r - len(a)) + tuple(a)
    b1 = (1,) * (r - len(b)) + tuple(b)
    out = []
    for x, y in zip(a1, b1):
        if x != y and x != 1 and y != 1:
            raise EdgennError(f"{op.type} '{op.name}': input shapes {tuple(a)} and {tuple(b)} do not broadcast")
        out.append(max(x, y))
    return tuple(out)


def check_binary_shapes(op: Op, g: Graph) -> None:
    """Inputs must broadcast to exactly the output shape, with rank <= MAX_RANK."""
    a = g.tensors[op.inputs[0]].shape
    b = g.tensors[op.inputs[1]].shape
    y = g.tensors[op.outputs[0]].shape
    if max(len(a), len(b), len(y)) > MAX_RANK:
        raise UnsupportedOpError(f"{op.type} '{op.name}': tensors of rank > {MAX_RANK} are not supported")
    want = broadcast_shape(op, a, b)
    if tuple(y) != want:
        raise EdgennError(f"{op.type} '{op.name}': output shape {tuple(y)} is not the broadcast {want} "
                          f"of the input shapes {tuple(a)} and {tuple(b)}")


def _per_tensor(op: Op, g: Graph, name: str):
    t = g.tensors[name]
    if t.dtype != "int8" or t.quant is None:
        raise EdgennError(f"{op.type} '{op.name}': tensor {name!r} must be quantized int8, got {t.dtype}")
    if t.quant.scale.size != 1:
        raise UnsupportedOpError(f"{op.type} '{op.name}': tensor {name!r} is quantized per channel; "
                                 "only per-tensor quantization is supported")
    return t.quant


def act_range(op: Op, y_quant) -> tuple[int, int]:
    """int8 clamp bounds of ``op.attrs['act']`` on the output's scale (TFLite's quantization).

    fixedpoint.activation_range leaves a lower bound above the int8 range unclamped (an ONNX
    Clip whose minimum lies above the representable maximum); the result must then be 127
    everywhere, so both bounds are pulled into [-128, 127] here. TFLite's own fused activations
    (ReLU, ReLU6, ReLU-1..1) always contain the zero point and never reach this case.
    """
    lo, hi = op.attrs.get("act", (None, None)) or (None, None)
    act_min, act_max = activation_range(lo, hi, y_quant.s, y_quant.zp)
    act_min = min(max(act_min, -128), 127)
    act_max = min(max(act_max, act_min), 127)
    return int(act_min), int(act_max)


def _smaller_than_one(op: Op, what: str, real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplierSmallerThanOneExp, with a user error instead of an abort."""
    if not 0.0 < real < 1.0:
        raise EdgennError(f"{op.type} '{op.name}': {what} multiplier {real!r} is outside (0, 1); "
                          "the scales of the inputs and the output are incompatible")
    m, s = quantize_multiplier(real)
    if s > 0:
        raise EdgennError(f"{op.type} '{op.name}': {what} multiplier {real!r} rounds to 1.0")
    return m, s


def prepare(op: Op, g: Graph) -> None:
    check_binary_shapes(op, g)
    q1 = _per_tensor(op, g, op.inputs[0])
    q2 = _per_tensor(op, g, op.inputs[1])
    qy = _per_tensor(op, g, op.outputs[0])
    # float32 scales widened to double, exactly as TFLM does.
    s1, s2, sy = q1.s, q2.s, qy.s
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = _smaller_than_one(op, "input 1", s1 / twice_max)
    m2, sh2 = _smaller_than_one(op, "input 2", s2 / twice_max)
    mo, sho = _smaller_than_one(op, "output", twice_max / ((1 << LEFT_SHIFT) * sy))
    act_min, act_max = act_range(op, qy)
    op.options = {
        "left_shift": LEFT_SHIFT,
        "input1_offset": -q1.zp, "input1_multiplier": m1, "input1_shift": sh1,
        "input2_offset": -q2.zp, "input2_multiplier": m2, "input2_shift": sh2,
        "output_offset": qy.zp, "output_multiplier": mo, "output_shift": sho,
        "act_min": act_min, "act_max": act_max,
    }


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)
