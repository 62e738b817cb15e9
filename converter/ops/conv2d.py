"""conv2d: int8 2-D convolution (NHWC), per-channel int8 weights, int32 bias, optional groups.

Float attrs: ``stride`` (sh, sw), ``dilation`` (dh, dw), ``pads`` (top, left, bottom, right),
``groups``, ``act`` (lo, hi). Weights are (Co, KH, KW, Ci/groups), quantized along axis 0.
Options follow TFLM's ConvPrepare / PopulateConvolutionQuantizationParams: one multiplier and shift
per output channel from (double)input_scale * (double)filter_scale[c] / (double)output_scale.
TFLM uses only the top/left padding; the output extent comes from the output tensor, and taps
outside the input are skipped (equivalent to padding with the input zero point).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.quantize_util import quantize_weights_and_bias
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import activation_range, quantize_multiplier

WEIGHT_AXIS = 0


def _bias(op: Op, g: Graph):
    return g.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] else None


def quantize_constants(op: Op, g: Graph) -> None:
    quantize_weights_and_bias(op, g, WEIGHT_AXIS)


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


def geometry(op: Op, g: Graph, depthwise: bool = False) -> dict[str, int]:
    """Strides, dilations and paddings from the attrs, checked against the tensor shapes."""
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


def quant_options(op: Op, g: Graph, channels: int) -> dict:
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    if x.quant is None or w.quant is None or y.quant is None:
        raise EdgennError(f"{op.type} '{op.name}': input, weights and output must be quantized")
    if w.dtype != "int8" or x.dtype != "int8" or y.dtype != "int8":
        raise EdgennError(f"{op.type} '{op.name}': only int8 input/weights/output are supported")
    if np.any(np.asarray(w.quant.zero_point) != 0):
        raise EdgennError(f"{op.type} '{op.name}': weights must be symmetric (zero point 0)")
    b = _bias(op, g)
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


def prepare(op: Op, g: Graph) -> None:
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    geo = geometry(op, g)
    ci, co, cig = int(x.shape[3]), int(w.shape[0]), int(w.shape[3])
    if cig < 1 or ci % cig:
        raise EdgennError(f"conv2d '{op.name}': input depth {ci} is not a multiple of the filter depth {cig}")
    groups = ci // cig
    if "groups" in op.attrs and int(op.attrs["groups"]) != groups:
        raise EdgennError(f"conv2d '{op.name}': groups={op.attrs['groups']} but input depth {ci} / filter depth "
                          f"{cig} = {groups}")
    if co % groups or int(y.shape[3]) != co:
        raise EdgennError(f"conv2d '{op.name}': {co} filters for {groups} groups and output depth {y.shape[3]}")
    op.options = {**geo, "groups": groups, **quant_options(op, g, co)}


def macs(op: Op, g: Graph) -> int:
    w, y = g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    return int(y.size * w.shape[1] * w.shape[2] * w.shape[3])
