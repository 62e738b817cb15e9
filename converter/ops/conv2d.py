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

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import conv_geometry, conv_quant_options
from edgenn.converter.quantize_util import quantize_weights_and_bias
from edgenn.errors import EdgennError

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=0, fused_activation=True, same_quant_inputs=False,
                    channels="dense")


def quantize_constants(op: Op, g: Graph) -> None:
    quantize_weights_and_bias(op, g, TRAITS.weight_axis)


def prepare(op: Op, g: Graph) -> None:
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    geo = conv_geometry(op, g)
    ci, co, cig = int(x.shape[3]), int(w.shape[0]), int(w.shape[3])
    if cig < 1 or ci % cig:
        raise EdgennError(f"conv2d '{op.name}': input depth {ci} is not a multiple of the filter depth {cig}")
    groups = ci // cig
    if "groups" in op.attrs and int(op.attrs["groups"]) != groups:
        raise EdgennError(f"conv2d '{op.name}': groups={op.attrs['groups']} but input depth {ci} / filter depth "
                          f"{cig} = {groups}")
    if co % groups or int(y.shape[3]) != co:
        raise EdgennError(f"conv2d '{op.name}': {co} filters for {groups} groups and output depth {y.shape[3]}")
    op.options = {**geo, "groups": groups, **conv_quant_options(op, g, co)}


def macs(op: Op, g: Graph) -> int:
    w, y = g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    return int(y.size * w.shape[1] * w.shape[2] * w.shape[3])


# ---------------------------------------------------------------------- float

def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x, w, b = fx.images(xs[0]), xs[1], xs[2] if len(xs) > 2 else None
    y_t = g.tensors[op.outputs[0]]
    co, kh, kw, cig = w.shape
    groups = x.shape[-1] // cig
    if cig * groups != x.shape[-1] or co % groups:
        raise EdgennError(f"conv2d '{op.name}': input depth {x.shape[-1]}, filter depth {cig} and {co} filters "
                          "do not form groups")
    cog = co // groups
    stride, dilation, tl = fx.window_geometry(op)
    out_hw = (y_t.shape[1], y_t.shape[2])
    m = x.shape[0]
    p = m * out_hw[0] * out_hw[1]
    acc = np.zeros((groups, p, cog), np.float64)
    # (G, KH, KW, Ci/G, Co/G): one (Ci/G x Co/G) matrix per group and tap
    wg = np.transpose(w.reshape(groups, cog, kh, kw, cig), (0, 2, 3, 4, 1))
    for ky, kx, v in fx.taps(x, (kh, kw), stride, dilation, tl, out_hw, 0.0):
        cols = np.transpose(v.reshape(p, groups, cig), (1, 0, 2)).astype(np.float64)
        acc += np.matmul(cols, wg[:, ky, kx])
    y = np.transpose(acc, (1, 0, 2)).reshape(m, out_hw[0], out_hw[1], co)
    if b is not None:
        y = y + b
    return [y]


def mean_output(op: Op, dw: np.ndarray, mean_in: np.ndarray) -> np.ndarray:
    """Expected output change per channel of weights changed by ``dw`` on inputs of per-channel mean
    ``mean_in`` (bias correction; taps in the padding are ignored)."""
    groups = int(op.attrs.get("groups", 1))
    co, cig = dw.shape[0], dw.shape[3]
    per_tap = dw.sum(axis=(1, 2))  # (Co, Ci/groups)
    grp_of_out = np.arange(co) // (co // groups)
    means = mean_in.reshape(groups, cig)[grp_of_out]  # (Co, Ci/groups): each output's own input group
    return (per_tap * means).sum(axis=1)


def design_rows(op: Op, g: Graph, x: np.ndarray) -> np.ndarray:
    """The input as least-squares rows, output = rows @ W.reshape(Co, -1).T: im2col over the taps."""
    w = g.tensors[op.inputs[1]].shape
    y = g.tensors[op.outputs[0]].shape
    stride, dilation, tl = fx.window_geometry(op)
    img = x.reshape((-1,) + x.shape[-3:])
    taps = [v for _, _, v in fx.taps(img, (w[1], w[2]), stride, dilation, tl, (y[-3], y[-2]), 0.0)]
    return np.concatenate(taps, axis=-1).reshape(-1, int(np.prod(w[1:])))


# ---------------------------------------------------------------------- import

def _onnx_conv(imp, node) -> None:
    """ONNX Conv (2-D; 1-D through ``as_2d``): conv2d, or depthwise_conv2d when every group is one
    input channel."""
    x_shape = imp.shape(node.input[0])
    if len(x_shape) != 4:
        imp.fail(f"only 1-D and 2-D convolution (3-D or 4-D input) is supported, input has rank {len(x_shape)}")
    w = imp.const(node.input[1], "weight").astype(np.float32)
    b = imp.optional_const(node, 2)
    co, ci_g, kh, kw = w.shape
    ci = x_shape[1]
    group = int(imp.attr(node, "group", 1))
    strides = tuple(imp.attr(node, "strides", [1, 1]))
    dil = tuple(imp.attr(node, "dilations", [1, 1]))
    out_shape = imp.shapes.get(node.output[0])
    if out_shape is None:
        imp.fail("output shape could not be inferred")
    pads = imp.spatial_pads(node, x_shape[2:], (kh, kw), strides, dil, out_shape[2:])
    x = imp.get(node.input[0], imp.NHWC)
    y = imp.new_output(node.output[0], imp.NHWC)
    bias = [imp.g.add_const(f"{node.output[0]}_bias", b.astype(np.float32)).name] if b is not None else []
    if group > 1 and group == ci and ci_g == 1:
        mult = co // ci
        wt = np.ascontiguousarray(np.transpose(w, (1, 2, 3, 0)))  # (1, KH, KW, Ci*mult)
        wn = imp.g.add_const(f"{node.output[0]}_weights", wt).name
        imp.add("depthwise_conv2d", [x, wn] + bias, [y], stride=strides, dilation=dil, pads=pads,
                depth_multiplier=mult, act=(None, None))
    else:
        if ci != ci_g * group:
            imp.fail(f"weight shape {list(w.shape)} does not match {ci} input channels in {group} groups")
        wt = np.ascontiguousarray(np.transpose(w, (0, 2, 3, 1)))  # (Co, KH, KW, Ci/g)
        wn = imp.g.add_const(f"{node.output[0]}_weights", wt).name
        imp.add("conv2d", [x, wn] + bias, [y], stride=strides, dilation=dil, pads=pads, groups=group,
                act=(None, None))


def _tflite_conv(imp, op) -> None:
    x, w = imp.shape(op.inputs[0]), imp.shape(op.inputs[1])
    attrs = imp.conv_attrs(op)
    if x[3] % w[3]:
        imp.fail(op, f"input channels {x[3]} are not a multiple of the filter's {w[3]}")
    imp.add(op, "conv2d", op.inputs[:3], op.outputs[:1], groups=x[3] // w[3], **attrs)


ONNX = {"Conv": lambda imp, node: imp.as_2d(node, _onnx_conv)}
TFLITE = {"CONV_2D": _tflite_conv}
