"""Helpers shared by several operator rules: quantization checks, fused-activation bounds,
broadcast shapes, convolution and pooling geometry and their per-channel requantization."""
from __future__ import annotations

import math

import numpy as np

from edgenn.converter.graph import Graph, Op, QParams
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.fixedpoint import activation_range, calculate_input_radius, quantize_multiplier, round_half_away

BINARY_MAX_RANK = 6  # TFLM's broadcasting binary kernels handle up to 6 dimensions


def per_tensor(op: Op, g: Graph, name: str) -> QParams:
    """The quantization of int8 tensor ``name``, which must be per-tensor (a one-line error otherwise)."""
    t = g.tensors[name]
    if t.dtype != "int8" or t.quant is None:
        raise EdgennError(f"{op.type} '{op.name}': tensor {name!r} must be quantized int8, got {t.dtype}")
    if t.quant.scale.size != 1:
        raise UnsupportedOpError(f"{op.type} '{op.name}': tensor {name!r} is quantized per channel; "
                                 "only per-tensor quantization is supported")
    return t.quant


def same_shape(op: Op, g: Graph) -> None:
    """Input 0 and output 0 must have the same shape (elementwise unary operators)."""
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if tuple(x.shape) != tuple(y.shape):
        raise EdgennError(f"{op.type} '{op.name}': input shape {x.shape} differs from output shape {y.shape}")


def act_range(op: Op, y_quant: QParams) -> tuple[int, int]:
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


def multiplier_smaller_than_one(op: Op, what: str, real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplierSmallerThanOneExp, with a user error instead of an abort."""
    if not 0.0 < real < 1.0:
        raise EdgennError(f"{op.type} '{op.name}': {what} multiplier {real!r} is outside (0, 1); "
                          "the scales of the inputs and the output are incompatible")
    m, s = quantize_multiplier(real)
    if s > 0:
        raise EdgennError(f"{op.type} '{op.name}': {what} multiplier {real!r} rounds to 1.0")
    return m, s


def common_scale_options(op: Op, q1: QParams, q2: QParams, left_shift: int, float32: bool = False) -> dict[str, int]:
    """TFLM's rescaling of two inputs to a common fixed-point scale (ADD, SUB, SQUARED_DIFFERENCE):
    offsets -zero point and multipliers s_i / (2 max(s1, s2)), in double (ADD) or float32
    arithmetic (SUB). Returns the options left_shift and input{1,2}_offset / _multiplier / _shift."""
    if float32:
        f = np.float32
        twice_max = f(2) * max(f(q1.s), f(q2.s))
        r1, r2 = float(f(f(q1.s) / twice_max)), float(f(f(q2.s) / twice_max))
    else:
        twice_max = 2.0 * max(q1.s, q2.s)
        r1, r2 = q1.s / twice_max, q2.s / twice_max
    m1, s1 = multiplier_smaller_than_one(op, "input 1", r1)
    m2, s2 = multiplier_smaller_than_one(op, "input 2", r2)
    return {"left_shift": left_shift, "input1_offset": -q1.zp, "input1_multiplier": m1, "input1_shift": s1,
            "input2_offset": -q2.zp, "input2_multiplier": m2, "input2_shift": s2}


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
    """Inputs must broadcast to exactly the output shape, with rank <= BINARY_MAX_RANK (any number
    of inputs: select has three)."""
    shapes = [tuple(g.tensors[t].shape) for t in op.inputs]
    y = g.tensors[op.outputs[0]].shape
    if max(len(s) for s in shapes + [tuple(y)]) > BINARY_MAX_RANK:
        raise UnsupportedOpError(f"{op.type} '{op.name}': tensors of rank > {BINARY_MAX_RANK} are not supported")
    want = shapes[0]
    for s in shapes[1:]:
        want = broadcast_shape(op, want, s)
    if tuple(y) != want:
        raise EdgennError(f"{op.type} '{op.name}': output shape {tuple(y)} is not the broadcast {want} "
                          f"of the input shapes {' and '.join(str(s) for s in shapes)}")


def binary_quant(op: Op, g: Graph) -> tuple[QParams, QParams, QParams]:
    """A broadcasting two-input operator's checked shapes and the per-tensor int8 quantization of
    input 1, input 2 and the output."""
    check_binary_shapes(op, g)
    return per_tensor(op, g, op.inputs[0]), per_tensor(op, g, op.inputs[1]), per_tensor(op, g, op.outputs[0])


# ---------------------------------------------------------------------- convolutions

def channel_multipliers(input_scale: float, filter_scales: np.ndarray, output_scale: float,
                        channels: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLM PopulateConvolutionQuantizationParams: per-channel (multiplier, shift); a single filter
    scale is broadcast over the channels. Scales are float32 in the file, products taken in double."""
    fs = np.asarray(filter_scales, np.float32).reshape(-1)
    if fs.size not in (1, channels):
        raise EdgennError(f"filter has {fs.size} scales for {channels} output channels")
    mults, shifts = [], []
    for c in range(channels):
        s = float(fs[c] if fs.size > 1 else fs[0])
        m, sh = quantize_multiplier(float(np.float32(input_scale)) * s / float(np.float32(output_scale)))
        mults.append(m)
        shifts.append(sh)
    return np.asarray(mults, np.int32), np.asarray(shifts, np.int32)


def conv_geometry(op: Op, g: Graph) -> dict[str, int]:
    """Strides, dilations and paddings of a convolution from its attrs, checked against the tensor shapes.

    TFLM uses only the top/left padding; the output extent comes from the output tensor.
    """
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4:
        raise EdgennError(f"{op.type} '{op.name}': input, weights and output must be 4-D (NHWC), got "
                          f"{list(x.shape)}, {list(w.shape)}, {list(y.shape)}")
    sh, sw = (int(v) for v in op.attrs.get("stride", (1, 1)))
    dh, dw = (int(v) for v in op.attrs.get("dilation", (1, 1)))
    pt, pl, pb, pr = (int(v) for v in op.attrs.get("pads", (0, 0, 0, 0)))
    if min(sh, sw, dh, dw) < 1 or min(pt, pl, pb, pr) < 0:
        raise EdgennError(f"{op.type} '{op.name}': invalid stride {(sh, sw)}, dilation {(dh, dw)} or pads "
                          f"{(pt, pl, pb, pr)}")
    kh, kw = int(w.shape[1]), int(w.shape[2])
    n, h, wd = int(x.shape[0]), int(x.shape[1]), int(x.shape[2])
    ho, wo = int(y.shape[1]), int(y.shape[2])
    if int(y.shape[0]) != n:
        raise EdgennError(f"{op.type} '{op.name}': batch of output {y.shape[0]} != input {n}")
    exp_h = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    exp_w = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
    if (ho, wo) != (exp_h, exp_w):
        raise EdgennError(f"{op.type} '{op.name}': output {ho}x{wo} does not match input {h}x{wd}, kernel "
                          f"{kh}x{kw}, stride {(sh, sw)}, dilation {(dh, dw)}, pads {(pt, pl, pb, pr)} "
                          f"(expected {exp_h}x{exp_w})")
    return {"stride_h": sh, "stride_w": sw, "dilation_h": dh, "dilation_w": dw,
            "pad_top": pt, "pad_left": pl, "pad_bottom": pb, "pad_right": pr}


def conv_quant_options(op: Op, g: Graph, channels: int) -> dict:
    """Offsets, clamp and per-channel requantization of a convolution (TFLM ConvPrepare)."""
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    if x.quant is None or w.quant is None or y.quant is None:
        raise EdgennError(f"{op.type} '{op.name}': input, weights and output must be quantized")
    if w.dtype != "int8" or x.dtype != "int8" or y.dtype != "int8":
        raise EdgennError(f"{op.type} '{op.name}': only int8 input/weights/output are supported")
    if np.any(np.asarray(w.quant.zero_point) != 0):
        raise EdgennError(f"{op.type} '{op.name}': weights must be symmetric (zero point 0)")
    b = g.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] else None
    if b is not None and (b.dtype != "int32" or b.size != channels):
        raise EdgennError(f"{op.type} '{op.name}': bias must be int32 with {channels} values")
    mults, shifts = channel_multipliers(x.quant.s, w.quant.scale, y.quant.s, channels)
    lo, hi = op.attrs.get("act", (None, None)) or (None, None)
    act_min, act_max = activation_range(lo, hi, y.quant.s, y.quant.zp)
    return {
        "input_offset": -x.quant.zp,
        "output_offset": y.quant.zp,
        "act_min": act_min,
        "act_max": act_max,
        "out_multiplier": mults,
        "out_shift": shifts,
    }


# ---------------------------------------------------------------------- pooling

def pool_options(op: Op, g: Graph) -> dict[str, int]:
    """The options of max_pool2d and avg_pool2d (TFLM PoolingPrepare).

    Out-of-bounds window positions are excluded; only the top/left pads position the windows, the
    output height/width come from the output tensor. The output keeps the input's quantization.
    """
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(y.shape) != 4:
        raise EdgennError(f"{op.type} '{op.name}': only 4-D NHWC tensors are supported, got {x.shape} -> {y.shape}")
    if x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        raise EdgennError(f"{op.type} '{op.name}': batch/channels differ between input {x.shape} and output {y.shape}")
    fh, fw = (int(v) for v in op.attrs["filter"])
    sh, sw = (int(v) for v in op.attrs.get("stride", (1, 1)))
    pt, pl, pb, pr = (int(v) for v in op.attrs.get("pads", (0, 0, 0, 0)))
    h, w, oh, ow = x.shape[1], x.shape[2], y.shape[1], y.shape[2]
    if min(fh, fw, sh, sw) < 1 or min(pt, pl, pb, pr) < 0:
        raise EdgennError(f"{op.type} '{op.name}': bad geometry filter {(fh, fw)} stride {(sh, sw)} "
                          f"pads {(pt, pl, pb, pr)}")
    # Every window must hold at least one input element (TFLM's AveragePool fails otherwise).
    if pt >= fh or pl >= fw or (oh - 1) * sh - pt >= h or (ow - 1) * sw - pl >= w:
        raise EdgennError(f"{op.type} '{op.name}': some pooling windows lie entirely in the padding "
                          f"(input {h}x{w}, output {oh}x{ow}, filter {(fh, fw)}, stride {(sh, sw)}, "
                          f"pads {(pt, pl, pb, pr)})")
    xq, yq = x.quant, y.quant
    if xq is None or yq is None or abs(xq.s - yq.s) > 1e-6 or xq.zp != yq.zp:
        raise EdgennError(f"{op.type} '{op.name}': input and output quantization must be equal "
                          f"(input {xq and (xq.s, xq.zp)}, output {yq and (yq.s, yq.zp)})")
    lo, hi = op.attrs.get("act", (None, None)) or (None, None)
    act_min, act_max = activation_range(lo, hi, yq.s, yq.zp)
    return {"filter_h": fh, "filter_w": fw, "stride_h": sh, "stride_w": sw, "pad_top": pt, "pad_left": pl,
            "pad_bottom": pb, "pad_right": pr, "act_min": act_min, "act_max": act_max}


# ---------------------------------------------------------------------- fixed-point activations

def input_scaling_options(op: Op, x_quant: QParams, integer_bits: int) -> dict[str, int]:
    """TFLM CalculateArithmeticOpData of logistic and tanh: the input scale times 2**(31 - integer_bits)
    (a double of the float32 scale) split by frexp into a Q31 multiplier and a left shift, and the
    radius |x - zero point| beyond which the output saturates."""
    real = float(x_quant.s) * float(1 << (31 - integer_bits))
    q, shift = math.frexp(real)
    mult = round_half_away(q * (1 << 31))
    if not 0 <= shift <= 62 or mult >= 1 << 31:
        raise EdgennError(f"{op.type} '{op.name}': input scale {x_quant.s} is out of the supported range")
    return {
        "input_zero_point": x_quant.zp,
        "input_range_radius": calculate_input_radius(integer_bits, shift, 31),
        "input_multiplier": mult,
        "input_left_shift": shift,
    }


# ---------------------------------------------------------------------- lookup tables

def populate_table(op: Op, x_quant: QParams, y_quant: QParams, transform, float32: bool = True) -> np.ndarray:
    """The int8 -> int8 table of a function (TFLM PopulateLookupTable, as its ELU builds in Prepare):
    every input value dequantized, transformed, divided by the output scale, rounded half away from
    zero, offset by the output zero point and saturated.

    ``float32``: TFLM's arithmetic (float32 products; ``transform`` takes and returns float32 arrays);
    otherwise every step in float64 (edgenn's own functions, which TFLM does not have).
    """
    v = np.arange(-128, 128, dtype=np.int64) - x_quant.zp
    if float32:
        f = np.float32
        x = f(x_quant.s) * v.astype(np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            y = np.asarray(transform(x), np.float32) * (f(1) / f(y_quant.s))
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            y = np.asarray(transform(float(x_quant.s) * v.astype(np.float64)), np.float64) / float(y_quant.s)
    if np.any(np.isnan(y)):
        raise EdgennError(f"{op.type} '{op.name}': the function is not defined on the input range")
    r = np.sign(y) * np.floor(np.abs(y) + 0.5)
    return np.clip(np.clip(r, -1e9, 1e9) + y_quant.zp, -128, 127).astype(np.int64)


# ---------------------------------------------------------------------- ONNX import

def onnx_operands(imp, node, names: list[str]) -> tuple[list[str], tuple[int, ...]]:
    """The IR tensors of an elementwise ONNX node's operands (numpy broadcasting), all in the stored
    layout of its first activation operand, and that layout. Constants are broadcast against that
    activation (``channel_const``); every activation must have the output's rank."""
    acts = [n for n in names if not imp.is_const(n)]
    if not acts:
        imp.fail("needs at least one operand that is not a constant")
    ref = acts[0]
    out_rank = len(imp.shapes[node.output[0]])
    lay = imp.layout(ref)
    res = []
    for k, name in enumerate(names):
        if imp.is_const(name):
            c = np.asarray(imp.const(name))
            if c.dtype.kind == "f":
                if not np.all(np.isfinite(c)):
                    imp.fail(f"constant operand '{name}' contains NaN or Inf")
                c = c.astype(np.float32)
            elif c.dtype.kind != "b":
                c = c.astype(np.float32)
            if c.ndim > out_rank:
                imp.fail(f"constant operand '{name}' has a higher rank than the output")
            if len(imp.shape(ref)) != out_rank:
                imp.fail("a constant operand broadcasts the activation to a higher rank")
            res.append(imp.g.add_const(f"{node.output[0]}_operand{k}", imp.channel_const(c, ref)).name)
        else:
            if len(imp.shape(name)) != out_rank:
                imp.fail("operands of different rank are not supported")
            res.append(imp.get(name, lay))
    return res, lay


def onnx_softmax(imp, node, op_type: str, **attrs) -> None:
    """Softmax / LogSoftmax on any axis: the kernels work on the last stored axis, so the input is
    taken in a layout with the axis last (its stored layout when it already is; else a transpose).
    Before opset 13 the operator works on the input flattened to 2-D at ``axis`` (default 1): when
    the axes after it are not all 1, the input is reshaped to (rows, depth) and back."""
    shape = imp.shape(node.input[0])
    rank = len(shape)
    if rank == 0:
        imp.fail("a scalar input is not supported")
    axis = int(imp.attr(node, "axis", -1 if imp.opset >= 13 else 1))
    if not -rank <= axis < rank:
        imp.fail(f"axis {axis} is out of range for rank {rank}")
    axis %= rank
    if imp.opset < 13 and any(d != 1 for d in shape[axis + 1:]):
        rows, depth = int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis:], dtype=np.int64))
        flat = imp.g.add_tensor(imp.g.unique(f"{node.output[0]}_2d_in"), (rows, depth))
        imp.add("reshape", [imp.get(node.input[0])], [flat.name])
        res = imp.g.add_tensor(imp.g.unique(f"{node.output[0]}_2d"), (rows, depth))
        imp.add(op_type, [flat.name], [res.name], **attrs)
        imp.add("reshape", [res.name], [imp.new_output(node.output[0])])
        return
    if imp.opset < 13:  # trailing 1s: the last axis of extent > 1 is the same softmax
        axis = max(i for i in range(axis, rank) if i == axis or shape[i] != 1)
    lay = imp.layout(node.input[0])
    if lay[-1] != axis:
        lay = tuple(i for i in range(rank) if i != axis) + (axis,)
    x = imp.get(node.input[0], lay)
    imp.add(op_type, [x], [imp.new_output(node.output[0], lay)], **attrs)
