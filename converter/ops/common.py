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
    """Inputs must broadcast to exactly the output shape, with rank <= BINARY_MAX_RANK."""
    a = g.tensors[op.inputs[0]].shape
    b = g.tensors[op.inputs[1]].shape
    y = g.tensors[op.outputs[0]].shape
    if max(len(a), len(b), len(y)) > BINARY_MAX_RANK:
        raise UnsupportedOpError(f"{op.type} '{op.name}': tensors of rank > {BINARY_MAX_RANK} are not supported")
    want = broadcast_shape(op, a, b)
    if tuple(y) != want:
        raise EdgennError(f"{op.type} '{op.name}': output shape {tuple(y)} is not the broadcast {want} "
                          f"of the input shapes {tuple(a)} and {tuple(b)}")


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
