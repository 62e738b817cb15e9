"""Helpers shared by several operator rules: quantization checks, fused-activation bounds,
broadcast shapes, convolution and pooling geometry and their per-channel requantization."""
from __future__ import annotations

import math

import numpy as np

from edgenn.converter.graph import Graph, Op, QParams
from edgenn.converter.quantize_util import bias_int32, quantize_array
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.fixedpoint import activation_range, calculate_input_radius, quantize_multiplier, round_half_away

BINARY_MAX_RANK = 6  # TFLM's broadcasting binary kernels handle up to 6 dimensions


def per_tensor(op: Op, g: Graph, name: str, dtypes: tuple[str, ...] = ("int8",)) -> QParams:
    """The quantization of int8 (or another of ``dtypes``) tensor ``name``, which must be per-tensor (a
    one-line error otherwise)."""
    t = g.tensors[name]
    if t.dtype not in dtypes or t.quant is None:
        raise EdgennError(f"{op.type} '{op.name}': tensor {name!r} must be quantized {' or '.join(dtypes)}, "
                          f"got {t.dtype}")
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

def onnx_fully_connected(imp, x_name: str, w_units_k: np.ndarray, bias: np.ndarray | None, out_name: str) -> None:
    """A fully_connected of ONNX value ``x_name`` with float weights (units, K) and an optional bias,
    producing ONNX value ``out_name`` (Gemm, and MatMul with a 2-D constant right operand)."""
    x = imp.get(x_name)
    wn = imp.g.add_const(f"{out_name}_weights", np.ascontiguousarray(w_units_k, dtype=np.float32)).name
    ins = [x, wn]
    if bias is not None:
        ins.append(imp.g.add_const(f"{out_name}_bias", np.asarray(bias, np.float32)).name)
    y = imp.new_output(out_name)
    imp.add("fully_connected", ins, [y], act=(None, None))


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
    lay = layout_with_axis_last(imp, node.input[0], axis)
    x = imp.get(node.input[0], lay)
    imp.add(op_type, [x], [imp.new_output(node.output[0], lay)], **attrs)


def layout_with_axis_last(imp, name: str, axis: int) -> tuple[int, ...]:
    """A layout of ONNX value ``name`` whose last stored axis is ONNX axis ``axis`` (>= 0): its stored
    layout when that already is, else the other axes in order and ``axis`` last (a transpose)."""
    lay = imp.layout(name)
    if lay[-1] != axis:
        lay = tuple(i for i in range(len(lay)) if i != axis) + (axis,)
    return lay


# ---------------------------------------------------------------------- resize
# resize_bilinear and resize_nearest run on index tables that prepare computes once per layer
# (format/schema/ops/resize_*.fbs), so one integer kernel serves TFLM's semantics and the ONNX
# variants. Float attrs (set by the importers): either ``tflite`` = (align_corners,
# half_pixel_centers), TFLM's own arithmetic, or ``coord`` (an ONNX coordinate_transformation_mode),
# ``scales`` (sh, sw: the scales ONNX divides by; None: output size / input size) and, for nearest,
# ``nearest_mode`` (ONNX's, or "simple" for opset <= 10: ceil when downsampling, else truncate).

RESIZE_COORDS = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")
BILINEAR_ONE = 1 << 10  # bilinear weights are in 1/1024 (TFLM's ResizeBilinearInteger)


def resize_shapes(op: Op, g: Graph) -> tuple[int, int, int, int]:
    """(in_h, in_w, out_h, out_w) of a 4-D NHWC resize; batch, channels and quantization must match
    (TFLM's resize kernels copy or interpolate the input bytes without requantizing)."""
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(y.shape) != 4 or x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        raise EdgennError(f"{op.type} '{op.name}': input {list(x.shape)} and output {list(y.shape)} must be 4-D "
                          "NHWC with the same batch and channels")
    xq, yq = x.quant, y.quant
    if xq is not None and yq is not None and (abs(xq.s - yq.s) > 1e-6 * xq.s or xq.zp != yq.zp):
        raise EdgennError(f"{op.type} '{op.name}': input and output quantization must be equal "
                          f"(input {(xq.s, xq.zp)}, output {(yq.s, yq.zp)})")
    return int(x.shape[1]), int(x.shape[2]), int(y.shape[1]), int(y.shape[2])


def onnx_source_coords(coord: str, in_size: int, out_size: int, scale: float | None) -> np.ndarray:
    """The source coordinate of every output index as onnxruntime computes it (float32 operations in
    its order); ``scale`` is the ONNX scale (None: out_size / in_size in float32)."""
    f = np.float32
    s = f(out_size) / f(in_size) if scale is None else f(scale)
    x = np.arange(out_size, dtype=np.float32)
    if coord == "asymmetric":
        return x / s
    if coord == "half_pixel":
        return (x + f(0.5)) / s - f(0.5)
    if coord == "pytorch_half_pixel":
        return (x + f(0.5)) / s - f(0.5) if out_size > 1 else np.zeros(out_size, np.float32)
    if coord == "tf_half_pixel_for_nn":
        return (x + f(0.5)) / s
    if coord == "align_corners":
        return x * f(in_size - 1) / f(out_size - 1) if out_size > 1 else np.zeros(out_size, np.float32)
    raise EdgennError(f"coordinate_transformation_mode {coord!r} is not supported (supported: "
                      f"{', '.join(RESIZE_COORDS)})")


def std_round(v: np.ndarray) -> np.ndarray:
    """C's round() of float32 values: half away from zero (exact: the sum is taken in float64)."""
    v = np.asarray(v, np.float64)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def _resize_axis_scale(op: Op, axis: int) -> float | None:
    scales = op.attrs.get("scales")
    return None if scales is None else float(scales[axis])


def bilinear_tables(op: Op, in_size: int, out_size: int, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, frac) of one axis: output index i interpolates source rows lo[i] and hi[i] with
    weights 1024 - frac[i] and frac[i] (frac may be negative where lo == hi, as in TFLM).

    ``tflite`` attrs: TFLM's ComputeInterpolationValuesInteger (scale and coordinates in 1/1024,
    C integer division). ONNX ``coord``: onnxruntime's float32 coordinate, clamped to the input,
    rounded to 1/1024 (the same integer style; within one output step of the float result)."""
    if op.attrs.get("tflite") is not None:
        align, half = (bool(v) for v in op.attrs["tflite"])
        if align and half:
            raise EdgennError(f"{op.type} '{op.name}': align_corners and half_pixel_centers cannot both be set")
        if align and out_size > 1:
            s10 = (BILINEAR_ONE * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
        else:
            s10 = (BILINEAR_ONE * in_size + out_size // 2) // out_size
        i = np.arange(out_size, dtype=np.int64)
        c = i * s10 + s10 // 2 - (1 << 9) if half else i * s10
        c_div = np.trunc(c / BILINEAR_ONE).astype(np.int64)  # C's division truncates toward zero
        lo = np.maximum(c_div, 0)
        hi = np.minimum(np.trunc((c + BILINEAR_ONE - 1) / BILINEAR_ONE).astype(np.int64), in_size - 1)
        frac = c - BILINEAR_ONE * lo
    else:
        src = onnx_source_coords(op.attrs.get("coord", "half_pixel"), in_size, out_size, _resize_axis_scale(op, axis))
        src = np.clip(src.astype(np.float64), 0.0, in_size - 1)
        c = np.floor(src * BILINEAR_ONE + 0.5).astype(np.int64)
        lo = c >> 10
        hi = np.minimum(lo + 1, in_size - 1)
        frac = c - BILINEAR_ONE * lo
    if np.any(lo > in_size - 1) or np.any(lo < 0):
        raise UnsupportedOpError(f"{op.type} '{op.name}': resizing {in_size} to {out_size} reads outside the input "
                                 "with TFLM's 10-bit scale (output too large for the input)")
    return lo, hi, frac


def nearest_table(op: Op, in_size: int, out_size: int, axis: int) -> np.ndarray:
    """The source index of every output index of one axis (float32 arithmetic, as TFLM's
    GetNearestNeighbor for ``tflite`` attrs and as onnxruntime for ONNX ``coord``/``nearest_mode``)."""
    f = np.float32
    x = np.arange(out_size, dtype=np.float32)
    if op.attrs.get("tflite") is not None:
        align, half = (bool(v) for v in op.attrs["tflite"])
        scale = f(in_size - 1) / f(out_size - 1) if align and out_size > 1 else f(in_size) / f(out_size)
        v = (x + f(0.5 if half else 0.0)) * scale
        idx = std_round(v) if align else np.floor(v)
        idx = np.minimum(idx.astype(np.int64), in_size - 1)
        if half:
            idx = np.maximum(idx, 0)
        return idx
    mode = op.attrs.get("nearest_mode", "round_prefer_floor")
    scale = _resize_axis_scale(op, axis)
    src = onnx_source_coords(op.attrs.get("coord", "half_pixel"), in_size, out_size, scale)
    if mode == "simple":
        down = (f(out_size) / f(in_size) if scale is None else f(scale)) < 1
        idx = np.ceil(src) if down else np.trunc(src)
    elif mode == "floor":
        idx = np.floor(src)
    elif mode == "ceil":
        idx = np.ceil(src)
    elif mode in ("round_prefer_floor", "round_prefer_ceil"):
        tie = src == np.trunc(src) + f(0.5)  # onnxruntime's test for a half-way case
        idx = np.where(tie, np.floor(src), std_round(src)) if mode == "round_prefer_floor" else std_round(src)
    else:
        raise EdgennError(f"{op.type} '{op.name}': nearest_mode {mode!r} is not supported (supported: "
                          f"{', '.join(NEAREST_MODES)})")
    return np.clip(idx.astype(np.int64), 0, in_size - 1)


def onnx_resize(imp, node) -> None:
    """ONNX Resize (opset 10, 11, 13, 18+) and Upsample (opset 7-9) of the two spatial axes of an
    NCHW tensor: mode "nearest" -> resize_nearest, "linear" -> resize_bilinear. Linear resizes whose
    coordinates TFLM's kernel computes (half_pixel, pytorch_half_pixel with outputs > 1,
    align_corners, asymmetric, with scales equal to output / input size) take TFLM's arithmetic;
    the others (tf_half_pixel_for_nn, other scales) the same kernel on onnxruntime's coordinates."""
    x_shape = imp.shape(node.input[0])
    if len(x_shape) != 4:
        imp.fail(f"only 4-D (NCHW) inputs can be resized, input has rank {len(x_shape)}")
    out_shape = imp.shapes.get(node.output[0])
    if out_shape is None or len(out_shape) != 4:
        imp.fail("output shape could not be inferred")
    opset = imp.opset
    resize = node.op_type == "Resize"
    mode = imp.attr_str(node, "mode", "nearest")
    if mode not in ("nearest", "linear", "bilinear"):
        imp.fail(f"mode={mode!r} is not supported (supported: nearest, linear)")
    if resize and opset >= 11:
        coord = imp.attr_str(node, "coordinate_transformation_mode", "half_pixel")
        nearest_mode = imp.attr_str(node, "nearest_mode", "round_prefer_floor")
    else:
        coord, nearest_mode = "asymmetric", "simple"
    if coord == "tf_crop_and_resize":
        imp.fail("coordinate_transformation_mode='tf_crop_and_resize' (crops by roi) is not supported")
    if coord not in RESIZE_COORDS:
        imp.fail(f"coordinate_transformation_mode={coord!r} is not supported (supported: {', '.join(RESIZE_COORDS)})")
    if nearest_mode not in NEAREST_MODES:
        imp.fail(f"nearest_mode={nearest_mode!r} is not supported")
    policy = imp.attr_str(node, "keep_aspect_ratio_policy", "stretch")
    # scales / sizes per input axis
    scales = sizes = None
    if not resize and opset < 9:
        scales = imp.attr(node, "scales")
    else:
        k_scales = 1 if (not resize or opset < 11) else 2
        s = imp.optional_const(node, k_scales)
        scales = None if s is None or np.asarray(s).size == 0 else [float(v) for v in np.asarray(s).reshape(-1)]
        if resize and opset >= 11:
            z = imp.optional_const(node, 3)
            sizes = None if z is None or np.asarray(z).size == 0 else [int(v) for v in np.asarray(z).reshape(-1)]
    axes = imp.attr(node, "axes")
    if axes is not None:
        full_s, full_z = [1.0] * 4, list(x_shape)
        for k, a in enumerate(axes):
            a = int(a) % 4
            if scales is not None:
                full_s[a] = scales[k]
            if sizes is not None:
                full_z[a] = sizes[k]
        scales = full_s if scales is not None else None
        sizes = full_z if sizes is not None else None
    if sizes is not None and policy != "stretch":
        imp.fail(f"keep_aspect_ratio_policy={policy!r} is not supported (only 'stretch')")
    if scales is not None and len(scales) != 4:
        imp.fail(f"scales {scales} do not have one value per input axis")
    if tuple(out_shape[:2]) != tuple(x_shape[:2]) or (scales is not None and list(scales[:2]) != [1.0, 1.0]):
        imp.fail("only the spatial axes (H, W) can be resized, not the batch or channels")
    hw_scales = None if scales is None else (float(np.float32(scales[2])), float(np.float32(scales[3])))
    in_hw, out_hw = tuple(x_shape[2:]), tuple(out_shape[2:])
    if int(imp.attr(node, "antialias", 0)) and any(o < i for i, o in zip(in_hw, out_hw)):
        imp.fail("antialias=1 while downsampling is not supported")
    x = imp.get(node.input[0], imp.NHWC)
    y = imp.new_output(node.output[0], imp.NHWC)
    if mode == "nearest":
        imp.add("resize_nearest", [x], [y], coord=coord, nearest_mode=nearest_mode, scales=hw_scales)
        return
    consistent = hw_scales is None or all(np.float32(s) == np.float32(o) / np.float32(i)
                                          for s, i, o in zip(hw_scales, in_hw, out_hw))
    as_tflm = {"align_corners": (True, False), "asymmetric": (False, False), "half_pixel": (False, True)}
    if coord == "pytorch_half_pixel" and min(out_hw) > 1:
        coord = "half_pixel"
    if consistent and coord in as_tflm:
        imp.add("resize_bilinear", [x], [y], tflite=as_tflm[coord])
    else:
        imp.add("resize_bilinear", [x], [y], coord=coord, scales=hw_scales)


def tflite_resize_flags(imp, op) -> tuple[bool, bool]:
    """(align_corners, half_pixel_centers) of RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR; the size
    input must be the constant output height and width (TFLM sizes the output from it)."""
    if len(imp.shape(op.inputs[0])) != 4:
        imp.fail(op, "only 4-D NHWC inputs are supported")
    size = imp.const(op.inputs[1]) if len(op.inputs) > 1 else None
    out = imp.shape(op.outputs[0])
    if size is None or [int(v) for v in np.asarray(size).reshape(-1)] != [int(out[1]), int(out[2])]:
        imp.fail(op, f"the size input must be a constant equal to the output's height and width {list(out[1:3])}")
    o = op.options
    return (bool(o.AlignCorners()), bool(o.HalfPixelCenters())) if o is not None else (False, False)


# ---------------------------------------------------------------------- data movement

def byte_copy(op: Op, g: Graph, max_rank: int) -> None:
    """Checks of an operator that copies int8 bytes (slice, split, gather, tile, mirror_pad): every
    activation int8 and per-tensor, input rank 1..max_rank. Like TFLM's copying kernels, the output
    parameters are not compared with the input's (the ONNX path gives them the input's)."""
    x = g.tensors[op.inputs[0]]
    if not 1 <= len(x.shape) <= max_rank:
        raise UnsupportedOpError(f"{op.type} '{op.name}': input rank {len(x.shape)} is not supported (1..{max_rank})")
    for name in [op.inputs[0]] + list(op.outputs):
        per_tensor(op, g, name)


def strided_slice_bounds(shape, begin, end, strides, begin_mask: int = 0, end_mask: int = 0,
                         shrink_mask: int = 0) -> list[tuple[int, int, int]]:
    """(start, count, stride) per axis of a strided slice, as TFLM's StridedSlice runs it
    (strided_slice_logic.h StridedSliceStartForAxis / EndForAxis): negative indices count from the
    end, then clamp to [0, n] (stride > 0) or [-1, n - 1] (stride < 0); a begin/end mask bit takes
    the whole axis; a shrunk axis takes one element. ONNX Slice (starts, ends, steps) is the same
    with no masks."""
    res = []
    for d, n in enumerate(shape):
        n, s = int(n), int(strides[d])
        if s == 0:
            raise ValueError(f"axis {d}: stride 0")
        lo, hi = (0, n) if s > 0 else (-1, n - 1)
        b = int(begin[d])
        b = b + n if b < 0 else b
        b = min(max(b, lo), hi)
        if begin_mask >> d & 1:
            b = 0 if s > 0 else n - 1
        if shrink_mask >> d & 1:
            if s < 0:
                # TFLM's loop runs from begin towards begin + 1 by a negative step: it writes nothing
                raise ValueError(f"axis {d}: a shrunk axis needs a positive stride (TFLM copies nothing for it)")
            if not 0 <= b < n:
                raise ValueError(f"axis {d}: shrunk index {int(begin[d])} is outside 0..{n - 1}")
            res.append((b, 1, 1))
            continue
        e = int(end[d])
        e = e + n if e < 0 else e
        e = min(max(e, lo), hi)
        if end_mask >> d & 1:
            e = n if s > 0 else -1
        count = max(0, -(-(e - b) // s)) if s > 0 else max(0, -(-(b - e) // -s))
        res.append((b, count, s))
    return res


def emit_chain(g: Graph, x: str, steps: list[tuple[str, tuple[int, ...], dict]], out: str) -> None:
    """Operators from tensor ``x`` to tensor ``out`` through ``steps`` = [(operator type, output shape,
    attrs)] (the last shape is out's); intermediates carry x's type and quantization (the byte-moving
    operators built this way copy bytes, as the TFLite operator they stand for does)."""
    src = g.tensors[x]
    cur = x
    for k, (op_type, shape, attrs) in enumerate(steps):
        if k == len(steps) - 1:
            nxt = out
            if tuple(g.tensors[out].shape) != tuple(shape):
                raise EdgennError(f"{op_type} '{out}': output shape {g.tensors[out].shape} should be {tuple(shape)}")
        else:
            nxt = g.add_tensor(g.unique(f"{out}#{op_type}"), shape, src.dtype, quant=src.quant).name
        g.add_op(op_type, g.unique(f"{out}#{k}") if k < len(steps) - 1 else out, [cur], [nxt], **attrs)
        cur = nxt


def depth_to_space_steps(shape: tuple[int, ...], block: int, crd: bool = False) -> list[tuple[str, tuple, dict]]:
    """(N, H, W, C) -> (N, H*b, W*b, C/b^2) as reshape, transpose, reshape: output channel c of
    block position (dy, dx) is input channel (dy*b + dx) * C/b^2 + c (TFLite, ONNX DCR) or, with
    ``crd``, c * b^2 + dy*b + dx (ONNX CRD)."""
    n, h, w, c = shape
    co = c // (block * block)
    if crd:
        mid, perm = (n, h, w, co, block, block), (0, 1, 4, 2, 5, 3)
    else:
        mid, perm = (n, h, w, block, block, co), (0, 1, 3, 2, 4, 5)
    return [("reshape", mid, {}), ("transpose", tuple(mid[p] for p in perm), {"perm": perm}),
            ("reshape", (n, h * block, w * block, co), {})]


def space_to_depth_steps(shape: tuple[int, ...], block: int) -> list[tuple[str, tuple, dict]]:
    """(N, H, W, C) -> (N, H/b, W/b, C*b^2): output channel (dy*b + dx) * C + c is input channel c at
    block position (dy, dx) (TFLite and ONNX SpaceToDepth)."""
    n, h, w, c = shape
    mid = (n, h // block, block, w // block, block, c)
    perm = (0, 1, 3, 2, 4, 5)
    return [("reshape", mid, {}), ("transpose", tuple(mid[p] for p in perm), {"perm": perm}),
            ("reshape", (n, h // block, w // block, c * block * block), {})]


# ---------------------------------------------------------------------- recurrent operators
# lstm (TFLM's integer UNIDIRECTIONAL_SEQUENCE_LSTM), gru and rnn (edgenn's, from the same integer
# primitives): int8 input and hidden state, per-tensor int8 weights, gate pre-activations in Q3.12
# and gate outputs in Q0.15 (TFLM's fixed scales), state tensors read and written in place.
# Float attrs (ONNX path): ``time_major``, ``reverse``, ``h0`` / ``c0`` ((B, H) initial state or
# None), ``cell_gate`` ("tanh" / "sigmoid", lstm), ``cell_clip`` (lstm, None: none),
# ``linear_before_reset`` (gru), ``activation`` (rnn).

GATE_PRE_SCALE = 2.0 ** -12  # Q3.12: the scale of every gate's fully connected outputs
GATE_OUT_SCALE = 2.0 ** -15  # Q0.15: sigmoid / tanh outputs


def recurrent_sizes(op: Op, g: Graph) -> tuple[int, int, int, int]:
    """(steps, batch, input size, hidden size) of a recurrent operator from its input and output:
    x (T, B, I) and y (T, B, H) when ``time_major``, else (B, T, I) and (B, T, H)."""
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if len(x.shape) != 3 or len(y.shape) != 3 or x.shape[:2] != y.shape[:2]:
        raise EdgennError(f"{op.type} '{op.name}': input {list(x.shape)} and output {list(y.shape)} must be "
                          "(time, batch, features) or (batch, time, features) with the same first two axes")
    tm = bool(op.attrs.get("time_major", False))
    t, b = (x.shape[0], x.shape[1]) if tm else (x.shape[1], x.shape[0])
    return int(t), int(b), int(x.shape[2]), int(y.shape[2])


def gate_weights(op: Op, g: Graph, names: list[str], rows: int, cols: int) -> list[QParams]:
    """Checks of a recurrent operator's gate weights: int8 constants (rows, cols), per-tensor and
    symmetric (TFLM's LSTM requantizes each gate per tensor); their quantization."""
    res = []
    for name in names:
        w = g.tensors[name]
        if not w.is_const or w.dtype != "int8" or w.quant is None or tuple(w.shape) != (rows, cols):
            raise EdgennError(f"{op.type} '{op.name}': weights {name!r} must be an int8 constant of shape "
                              f"({rows}, {cols}), got {w.dtype} {list(w.shape)}")
        if w.quant.scale.size != 1:
            raise UnsupportedOpError(f"{op.type} '{op.name}': weights {name!r} are quantized per channel; TFLM's "
                                     "integer LSTM takes per-tensor weights only (convert with per-tensor "
                                     "recurrent weights)")
        if w.quant.zp != 0:
            raise EdgennError(f"{op.type} '{op.name}': weights {name!r} must be symmetric (zero point 0)")
        res.append(w.quant)
    return res


def gate_biases(op: Op, g: Graph, names: list[str], units: int) -> None:
    """Gate biases: absent ("") or int32 constants of ``units`` values."""
    for name in names:
        if not name:
            continue
        b = g.tensors[name]
        if not b.is_const or b.dtype != "int32" or b.size != units:
            raise EdgennError(f"{op.type} '{op.name}': bias {name!r} must be an int32 constant of {units} values")


def gate_multipliers(x_quant: QParams, w_quants: list[QParams]) -> tuple[np.ndarray, np.ndarray]:
    """TFLM CreateGateParams: per gate, the multiplier of input scale x weight scale (a product of
    float32 scales in double) over the Q3.12 pre-activation scale."""
    pairs = [quantize_multiplier(float(np.float32(x_quant.s)) * float(np.float32(q.s)) / GATE_PRE_SCALE)
             for q in w_quants]
    return np.asarray([m for m, _ in pairs], np.int32), np.asarray([s for _, s in pairs], np.int32)


def product_multiplier(s1: float, s2: float, s_out: float) -> tuple[int, int]:
    """TFLM CreateInterGateMulParams: QuantizeMultiplier(double(s1) * double(s2) / double(s_out))."""
    return quantize_multiplier(float(np.float32(s1)) * float(np.float32(s2)) / float(np.float32(s_out)))


def state_tensor(op: Op, g: Graph, name: str, dtype: str, shape_hint: int) -> QParams:
    """A recurrent operator's state tensor: a variable tensor of ``dtype`` with ``shape_hint``
    elements (batch x hidden, any shape), quantized per tensor; its quantization."""
    t = g.tensors[name] if name else None
    if t is None or not t.variable:
        raise EdgennError(f"{op.type} '{op.name}': input {name!r} must be a state (variable) tensor")
    if t.dtype != dtype or t.size != shape_hint or t.quant is None or t.quant.scale.size != 1:
        raise EdgennError(f"{op.type} '{op.name}': state {name!r} must be {dtype} with {shape_hint} values, quantized "
                          f"per tensor; got {t.dtype} {list(t.shape)}")
    return t.quant


def recurrent_hidden_options(op: Op, g: Graph, h_name: str) -> dict:
    """The options every recurrent operator shares: layout, direction, input / hidden offsets."""
    x_q = per_tensor(op, g, op.inputs[0])
    per_tensor(op, g, op.outputs[0])
    h_q = g.tensors[h_name].quant
    if g.stateful and op.attrs.get("reverse"):
        raise UnsupportedOpError(f"{op.type} '{op.name}': a reverse (bidirectional) recurrent layer needs the whole "
                                 "sequence at once and cannot stream; convert it stateless (without --stateful)")
    return {"time_major": bool(op.attrs.get("time_major", False)), "reverse": bool(op.attrs.get("reverse", False)),
            "input_offset": -x_q.zp, "hidden_offset": -h_q.zp, "hidden_zero_point": h_q.zp}


def recurrent_macs(op: Op, g: Graph, gates: int) -> int:
    t, b, i, h = recurrent_sizes(op, g)
    return int(t * b * gates * h * (i + h))


# ----------------------------------------------------- float semantics (ONNX) and quantization

def sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def recurrent_float_steps(op: Op, xs: list, step, n: int, hidden: int, states: dict[str, np.ndarray]):
    """Run ``step(x_t, states) -> (h, extra)`` over a float sequence (n, T, B, I) / (n, B, T, I) in the
    operator's order; returns y (n, ..., H) with h at every step and the list of ``extra`` per step."""
    x = np.asarray(xs[0], np.float64)
    tm = bool(op.attrs.get("time_major", False))
    steps = x.shape[1] if tm else x.shape[2]
    y = np.zeros(x.shape[:-1] + (hidden,))
    extras = []
    for t in (range(steps - 1, -1, -1) if op.attrs.get("reverse") else range(steps)):
        h, extra = step(x[:, t] if tm else x[:, :, t], states)
        if tm:
            y[:, t] = h
        else:
            y[:, :, t] = h
        extras.append(extra)
    return y, extras


def initial_state(op: Op, key: str, n: int, batch: int, hidden: int) -> np.ndarray:
    """(n, B, H) float initial state from attrs[key] ((B, H) or None: zeros)."""
    v = op.attrs.get(key)
    base = np.zeros((batch, hidden)) if v is None else np.asarray(v, np.float64).reshape(batch, hidden)
    return np.broadcast_to(base, (n, batch, hidden)).copy()


def symmetric_per_tensor(w: np.ndarray) -> tuple[np.ndarray, QParams]:
    """int8 weights in -127..127 with one scale (zero point 0): TFLM's LSTM takes per-tensor weights."""
    w = np.asarray(w, np.float64)
    if not np.all(np.isfinite(w)):
        raise EdgennError("weights contain NaN or Inf")
    amax = float(np.max(np.abs(w))) if w.size else 0.0
    scale = np.float32(amax / 127.0 if amax > 0 else 1.0)
    q = np.clip(np.round(w / float(scale)), -127, 127).astype(np.int8)
    return q, QParams.per_tensor(float(scale), 0)


def quantize_gate_constants(op: Op, g: Graph, weights: list[str], biases: list[tuple[str, str, str]]) -> None:
    """Float gate weights -> per-tensor int8; float biases -> int32 of scale (activation scale x weight
    scale): ``biases`` are (bias, activation feeding the product, weights of the product)."""
    for name in weights:
        t = g.tensors[name]
        if t.dtype == "float32":
            t.data, t.quant = symmetric_per_tensor(t.data)
            t.dtype = "int8"
    for b, act, w in biases:
        t = g.tensors[b] if b else None
        if t is not None and t.dtype == "float32":
            t.data, t.quant = bias_int32(t.data, g.tensors[act].quant.s, g.tensors[w].quant.scale)
            t.dtype = "int32"


def add_state(g: Graph, op: Op, suffix: str, dtype: str, shape: tuple[int, ...], quant: QParams,
              initial: np.ndarray | None) -> str:
    """A new state (variable) tensor of ``op`` with its initial value (None: zeros)."""
    t = g.add_tensor(g.unique(f"{op.name}#{suffix}"), shape, dtype, quant=quant)
    t.variable, t.initial = True, initial
    return t.name


def hidden_state_initial(op: Op, q: QParams, batch: int, hidden: int) -> np.ndarray:
    """The int8 initial hidden state: attrs["h0"] quantized like the hidden state, or its zero point."""
    h0 = op.attrs.get("h0")
    if h0 is None:
        return np.full((batch, hidden), q.zp, np.int8)
    return quantize_array(np.asarray(h0, np.float64).reshape(batch, hidden), q)


# ------------------------------------------------------------------- ONNX LSTM / GRU / RNN import

ONNX_RECURRENT_DEFAULT_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}


def onnx_recurrent(imp, node, op_type: str, gates: int, order: list[int], attrs_of) -> None:
    """ONNX LSTM / GRU / RNN: one edgenn ``op_type`` operator per direction (forward, reverse or
    both), on the sequence as stored (layout 0: (T, B, I), time-major; layout 1: (B, T, I)), then Y
    by reshape (+ concat of the directions) and Y_h by slicing each direction's last step.

    ``order``: the ONNX gate index of each of the operator's gates; ``attrs_of(acts)`` the operator's
    own float attrs from the ``activations`` attribute (one direction's list)."""
    kind = node.op_type
    x_shape = imp.shape(node.input[0])
    if len(x_shape) != 3:
        imp.fail(f"the input must be 3-D, got {list(x_shape)}")
    layout = int(imp.attr(node, "layout", 0))
    tm = layout == 0
    steps, batch, _ = (x_shape if tm else (x_shape[1], x_shape[0], x_shape[2]))
    w = imp.const(node.input[1], "W").astype(np.float64)
    r = imp.const(node.input[2], "R").astype(np.float64)
    ndir, hidden = int(w.shape[0]), int(r.shape[-1])
    direction = imp.attr_str(node, "direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional") or ndir != (2 if direction == "bidirectional" else 1):
        imp.fail(f"direction {direction!r} does not match the {ndir} weight set(s)")
    if w.ndim != 3 or r.ndim != 3 or w.shape[1] != gates * hidden or r.shape[1] != gates * hidden:
        imp.fail(f"W {list(w.shape)} and R {list(r.shape)} do not hold {gates} gates of hidden size {hidden}")
    if w.shape[2] != x_shape[2]:
        imp.fail(f"W {list(w.shape)} takes {w.shape[2]} input features, the input {list(x_shape)} has {x_shape[2]}")
    b = imp.optional_const(node, 3)
    b = np.zeros((ndir, 2 * gates * hidden)) if b is None else np.asarray(b, np.float64)
    lens = imp.optional_const(node, 4) if len(node.input) > 4 and node.input[4] else None
    if len(node.input) > 4 and node.input[4] and (lens is None or np.any(np.asarray(lens) != steps)):
        imp.fail("sequence_lens must be absent or a constant equal to the sequence length")
    for a in ("activation_alpha", "activation_beta"):
        if imp.attr(node, a) is not None:
            imp.fail(f"attribute {a} is not supported")
    if imp.attr(node, "clip") is not None:
        imp.fail("attribute clip (clipping the gates' inputs) is not supported")
    acts = [a.decode() if isinstance(a, bytes) else a for a in (imp.attr(node, "activations") or [])]
    per_dir = len(ONNX_RECURRENT_DEFAULT_ACTS[kind])
    acts = acts or ONNX_RECURRENT_DEFAULT_ACTS[kind] * ndir

    def initial(k: int, what: str) -> np.ndarray | None:
        if len(node.input) <= k or not node.input[k]:
            return None
        if not imp.is_const(node.input[k]):
            imp.fail(f"{what} must be a constant; a model input as the initial state is not supported "
                     "(for streaming, convert with --stateful: the state carries over between calls)")
        v = np.asarray(imp.const(node.input[k]), np.float64)
        want = (ndir, batch, hidden) if tm else (batch, ndir, hidden)
        if v.shape != want:
            imp.fail(f"{what} has shape {list(v.shape)}, expected {list(want)}")
        return v if tm else np.transpose(v, (1, 0, 2))  # (num_dir, B, H)

    h0 = initial(5, "initial_h")
    c0 = initial(6, "initial_c") if kind == "LSTM" else None
    if kind == "LSTM" and len(node.input) > 7 and node.input[7]:
        imp.fail("peephole weights (input P) are not supported (TFLM's integer LSTM has none)")
    x = imp.get(node.input[0])
    y_shape = (steps, batch, hidden) if tm else (batch, steps, hidden)
    used = imp.used_outputs(node)
    if len(node.output) > 2 and node.output[2] in used:
        imp.fail("the final cell state output Y_c is not supported as a model output or operand "
                 "(edgenn keeps the cell state inside the operator)")
    dir_outs = []
    for d in range(ndir):
        reverse = direction == "reverse" or d == 1
        name = f"{node.output[0] or node.name or kind}#dir{d}"
        origin = node.output[0] if ndir == 1 and node.output[0] else None
        y = imp.g.add_tensor(imp.g.unique(name), y_shape, origin=origin)
        ins = [x]
        for src in (w, r):
            for k in order:
                ins.append(imp.g.add_const(f"{name}_w", src[d, k * hidden:(k + 1) * hidden].astype(np.float32)).name)
        extra = attrs_of(acts[d * per_dir:(d + 1) * per_dir], b[d], hidden, order)
        bias = extra.pop("#bias")
        ins += [imp.g.add_const(f"{name}_b", v.astype(np.float32)).name if v is not None else "" for v in bias]
        attrs = {"time_major": tm, "reverse": reverse, "h0": None if h0 is None else h0[d],
                 **({"c0": None if c0 is None else c0[d]} if kind == "LSTM" else {}), **extra}
        outs = [y.name]
        if kind == "LSTM":  # the cell state of every step: calibrated, then the int16 state's scale
            outs.append(imp.g.add_tensor(imp.g.unique(f"{name}#cell"), y_shape).name)
        base = (node.name or y.name) + (f"#{'reverse' if reverse else 'forward'}" if ndir == 2 else "")
        op_name = base
        while any(op.name == op_name for op in imp.g.ops):
            op_name = imp.g.unique(base)
        imp.g.add_op(op_type, op_name, ins, outs, **attrs)
        dir_outs.append((y.name, reverse))
    if node.output[0] in used:
        y4 = (steps, 1, batch, hidden) if tm else (batch, steps, 1, hidden)
        parts = []
        for k, (yn, _) in enumerate(dir_outs):
            out = imp.new_output(node.output[0]) if ndir == 1 else \
                imp.g.add_tensor(imp.g.unique(f"{yn}_4d"), y4).name
            imp.add("reshape", [yn], [out])
            parts.append(out)
        if ndir == 2:
            imp.add("concat", parts, [imp.new_output(node.output[0])], axis=1 if tm else 2)
    if len(node.output) > 1 and node.output[1] in used:
        hs = (1, batch, hidden) if tm else (batch, 1, hidden)
        parts = []
        for k, (yn, reverse) in enumerate(dir_outs):
            last = 0 if reverse else steps - 1
            out = imp.new_output(node.output[1]) if ndir == 1 else \
                imp.g.add_tensor(imp.g.unique(f"{yn}_last"), hs).name
            begin, end = ([last, 0, 0], [last + 1, batch, hidden]) if tm else ([0, last, 0], [batch, last + 1, hidden])
            imp.add("slice", [yn], [out], begin=begin, end=end, strides=[1, 1, 1])
            parts.append(out)
        if ndir == 2:
            imp.add("concat", parts, [imp.new_output(node.output[1])], axis=0 if tm else 1)
# ---------------------------------------------------------------------- reductions
# mean (and sum), reduce_max_min, arg_min_max, cumsum: operators over a set of axes of the
# internal layout; the ONNX handlers map the node's axes through the input's stored layout.

def resolve_axes(op: Op, axes, rank: int) -> list[int]:
    """TFLite ResolveAxis: negative axes wrap, duplicates drop; sorted (an axis out of range is a
    one-line error naming the operator)."""
    out = set()
    for a in np.asarray(axes, dtype=np.int64).reshape(-1).tolist():
        a = a + rank if a < 0 else a
        if not 0 <= a < rank:
            raise EdgennError(f"{op.type} '{op.name}': axis {a} is out of range for rank {rank}")
        out.add(int(a))
    return sorted(out)


def reduced_shape(op: Op, g: Graph, axes: list[int]) -> list[int]:
    """The kept extents of input 0 reduced over ``axes``; the output must hold exactly that many
    elements (with or without the reduced axes as 1s: the element order is the same)."""
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    kept = [int(d) for i, d in enumerate(x.shape) if i not in axes]
    if int(np.prod(kept, dtype=np.int64)) != y.size:
        raise EdgennError(f"{op.type} '{op.name}': output shape {list(y.shape)} does not match input "
                          f"{list(x.shape)} reduced over axes {axes}")
    return kept


def onnx_reduce_axes(imp, node) -> list[int] | None:
    """The axes of an ONNX Reduce* node, non-negative and sorted: the ``axes`` attribute (before
    opset 18; ReduceSum before 13) or the optional second input; no axes reduce over all of them,
    unless ``noop_with_empty_axes`` is set: then None (the node is the identity)."""
    rank = len(imp.shape(node.input[0]))
    axes = imp.attr(node, "axes", None)
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = imp.const(node.input[1], "axes").reshape(-1).tolist()
    if not axes:
        if imp.attr(node, "noop_with_empty_axes", 0):
            return None
        return list(range(rank))
    for a in axes:
        if not -rank <= int(a) < rank:
            imp.fail(f"axis {a} is out of range for rank {rank}")
    return sorted({int(a) % rank for a in axes})


def onnx_reduce_io(imp, node, axes: list[int], keep: bool) -> tuple[str, str, list[int]]:
    """(input tensor, new output tensor, reduced axes in the stored layout) of an ONNX reduction over
    ``axes`` (ONNX numbering): the input is taken in its stored layout; the output keeps that layout
    (``keep``: the axes stay with extent 1) or drops the axes, the others in their stored order."""
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    if keep:
        out_lay = lay
    else:
        out_lay = tuple(a - sum(1 for r in axes if r < a) for a in lay if a not in axes)
    y = imp.new_output(node.output[0], out_lay)
    return x, y, sorted(lay.index(a) for a in axes)


def onnx_reduce(imp, node, op_type: str, **attrs) -> None:
    """An ONNX Reduce* node as ``op_type`` with attrs ``axes`` (stored layout), ``keep_dims`` and
    ``attrs``; with noop_with_empty_axes and no axes, the identity."""
    axes = onnx_reduce_axes(imp, node)
    if axes is None:
        imp.alias(node.output[0], node.input[0])
        return
    keep = bool(imp.attr(node, "keepdims", 1))
    x, y, stored = onnx_reduce_io(imp, node, axes, keep)
    imp.add(op_type, [x], [y], axes=stored, keep_dims=keep, **attrs)


def tflite_reducer_axes(imp, op) -> tuple[list[int], bool]:
    """(axes, keep_dims) of a TFLite reduction (MEAN, SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL): input 1
    must be constant int32, as TFLM's Prepare requires; axes resolved as TFLM's ResolveAxis does."""
    axes = imp.const(op.inputs[1]) if len(op.inputs) > 1 else None
    if axes is None or axes.dtype != np.int32:
        imp.fail(op, "the axes must be a constant int32 tensor (as TFLite Micro requires)")
    rank = len(imp.shape(op.inputs[0]))
    ax = axes.reshape(-1).tolist()
    if any(not -rank <= int(a) < rank for a in ax):
        imp.fail(op, f"axes {ax} are out of range for rank {rank}")
    keep = bool(op.options.KeepDims()) if op.options is not None else False
    return sorted({int(a) % rank for a in ax}), keep
