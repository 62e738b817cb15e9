"""transpose_conv: int8 transposed convolution (NHWC), per-channel int8 weights, optional int32 bias
(TFLM reference_integer_ops::TransposeConv).

Float attrs: ``stride`` (sh, sw), ``pads`` (top, left, bottom, right) and ``act`` (lo, hi). Weights
are (Co, KH, KW, Ci) (TFLite's layout), quantized along axis 0. Input pixel (iy, ix) contributes
to output pixel (iy * sh - top + ky, ix * sw - left + kx); contributions outside the output are
dropped, so the output extent comes from the output tensor (ONNX output_padding and output_shape,
TFLite's output_shape input) and bottom / right may be negative (output rows that only the bias
reaches). Options follow TFLM's TransposeConvPrepare (PopulateConvolutionQuantizationParams, as
conv2d). Dilation and groups other than 1 are refused (TFLM has neither).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import conv_quant_options
from edgenn.converter.quantize_util import quantize_weights_and_bias
from edgenn.errors import EdgennError
from edgenn.runtime_py.kernels.common import transposed_conv_sums

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=0, fused_activation=True, same_quant_inputs=False,
                    channels="dense")


def quantize_constants(op: Op, g: Graph) -> None:
    quantize_weights_and_bias(op, g, TRAITS.weight_axis)


def _geometry(op: Op, g: Graph) -> tuple[int, int, int, int]:
    """(sh, sw, top, left), checked against the tensor shapes."""
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4:
        raise EdgennError(f"transpose_conv '{op.name}': input, weights and output must be 4-D (NHWC), got "
                          f"{list(x.shape)}, {list(w.shape)}, {list(y.shape)}")
    if x.shape[3] != w.shape[3] or y.shape[3] != w.shape[0] or x.shape[0] != y.shape[0]:
        raise EdgennError(f"transpose_conv '{op.name}': input {list(x.shape)}, weights {list(w.shape)} (Co, KH, KW, "
                          f"Ci) and output {list(y.shape)} do not fit together")
    sh, sw = (int(v) for v in op.attrs.get("stride", (1, 1)))
    pt, pl = (int(v) for v in op.attrs.get("pads", (0, 0, 0, 0))[:2])
    if min(sh, sw) < 1 or min(pt, pl) < 0:
        raise EdgennError(f"transpose_conv '{op.name}': invalid stride {(sh, sw)} or pads {(pt, pl)}")
    return sh, sw, pt, pl


def prepare(op: Op, g: Graph) -> None:
    sh, sw, pt, pl = _geometry(op, g)
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    pb = (x.shape[1] - 1) * sh + w.shape[1] - pt - y.shape[1]
    pr = (x.shape[2] - 1) * sw + w.shape[2] - pl - y.shape[2]
    op.options = {"stride_h": sh, "stride_w": sw, "pad_top": pt, "pad_left": pl, "pad_bottom": int(pb),
                  "pad_right": int(pr), **conv_quant_options(op, g, int(w.shape[0]))}


def macs(op: Op, g: Graph) -> int:
    x, w = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
    return int(x.size * w.shape[0] * w.shape[1] * w.shape[2])


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = xs[0].reshape((-1,) + xs[0].shape[-3:])
    w, b = xs[1], xs[2] if len(xs) > 2 else None
    sh, sw, pt, pl = _geometry(op, g)
    y_t = g.tensors[op.outputs[0]]
    y = transposed_conv_sums(x, w, (sh, sw), (pt, pl), (y_t.shape[1], y_t.shape[2]))
    if b is not None:
        y = y + b
    return [y]


def mean_output(op: Op, dw: np.ndarray, mean_in: np.ndarray) -> np.ndarray:
    """Expected output change per channel of weights changed by ``dw`` on inputs of per-channel mean
    ``mean_in``: an output pixel receives kh * kw / (sh * sw) taps on average."""
    sh, sw = (int(v) for v in op.attrs.get("stride", (1, 1)))
    return (dw.sum(axis=(1, 2)) * mean_in.reshape(1, -1)).sum(axis=1) / (sh * sw)


def design_rows(op: Op, g: Graph, x: np.ndarray) -> np.ndarray:
    """The input as least-squares rows, output = rows @ W.reshape(Co, -1).T: each output pixel's row holds
    the input pixel under every tap (zero where no input pixel maps there)."""
    w = g.tensors[op.inputs[1]].shape
    y = g.tensors[op.outputs[0]].shape
    sh, sw, pt, pl = _geometry(op, g)
    img = x.reshape((-1,) + x.shape[-3:]).astype(np.float64)
    m, h, wd, ci = img.shape
    kh, kw = w[1], w[2]
    fh, fw = max((h - 1) * sh + kh, pt + y[-3]), max((wd - 1) * sw + kw, pl + y[-2])
    rows = np.zeros((m, fh, fw, kh, kw, ci))
    for ky in range(kh):
        for kx in range(kw):
            rows[:, ky:ky + (h - 1) * sh + 1:sh, kx:kx + (wd - 1) * sw + 1:sw, ky, kx] = img
    return rows[:, pt:pt + y[-3], pl:pl + y[-2]].reshape(-1, kh * kw * ci)


# ---------------------------------------------------------------------- import

def _onnx_conv_transpose(imp, node) -> None:
    """ONNX ConvTranspose (2-D; 1-D through ``as_2d``), groups 1, dilations 1."""
    x_shape = imp.shape(node.input[0])
    if len(x_shape) != 4:
        imp.fail(f"only 1-D and 2-D transposed convolution is supported, input has rank {len(x_shape)}")
    if int(imp.attr(node, "group", 1)) != 1:
        imp.fail(f"group={imp.attr(node, 'group')} is not supported (only 1)")
    dil = tuple(imp.attr(node, "dilations", [1, 1]))
    if any(int(d) != 1 for d in dil):
        imp.fail(f"dilations={list(dil)} are not supported (only 1)")
    w = imp.const(node.input[1], "weight").astype(np.float32)  # (Ci, Co, KH, KW)
    if w.ndim != 4 or w.shape[0] != x_shape[1]:
        imp.fail(f"weight shape {list(w.shape)} does not match {x_shape[1]} input channels")
    b = imp.optional_const(node, 2)
    strides = tuple(int(s) for s in imp.attr(node, "strides", [1, 1]))
    out_shape = imp.shapes.get(node.output[0])
    if out_shape is None:
        imp.fail("output shape could not be inferred")
    auto = imp.attr_str(node, "auto_pad", "NOTSET")
    out_pad = list(imp.attr(node, "output_padding", [0, 0]))
    pads = [0, 0, 0, 0]
    if auto in ("SAME_UPPER", "SAME_LOWER") or (auto in ("NOTSET", "") and imp.attr(node, "output_shape") is not None):
        for i in range(2):
            # onnxruntime: the larger half at the end for SAME_UPPER, at the start otherwise
            total = max(0, strides[i] * (x_shape[2 + i] - 1) + out_pad[i] + w.shape[2 + i] - out_shape[2 + i])
            first = total // 2 if auto == "SAME_UPPER" else total - total // 2
            pads[i], pads[i + 2] = first, total - first
    elif auto in ("NOTSET", ""):
        pads = [int(p) for p in imp.attr(node, "pads", [0, 0, 0, 0])]
    elif auto != "VALID":
        imp.fail(f"auto_pad={auto!r} is not supported")
    if len(pads) != 4 or min(pads[:2]) < 0:
        imp.fail(f"pads {pads} are not supported (2-D, non-negative at the start)")
    x = imp.get(node.input[0], imp.NHWC)
    y = imp.new_output(node.output[0], imp.NHWC)
    wn = imp.g.add_const(f"{node.output[0]}_weights", np.ascontiguousarray(np.transpose(w, (1, 2, 3, 0)))).name
    bias = [imp.g.add_const(f"{node.output[0]}_bias", b.astype(np.float32)).name] if b is not None else []
    imp.add("transpose_conv", [x, wn] + bias, [y], stride=strides, pads=(pads[0], pads[1], pads[2], pads[3]),
            act=(None, None))


def _tflite_transpose_conv(imp, op) -> None:
    """TRANSPOSE_CONV: inputs (output_shape, weights, input[, bias]); TFLM's padding: SAME / VALID
    computed with the output as the convolution's input (TransposeConv's CalculateOpData)."""
    o = op.options
    x, w, y = imp.shape(op.inputs[2]), imp.shape(op.inputs[1]), imp.shape(op.outputs[0])
    if len(x) != 4 or len(w) != 4 or len(y) != 4:
        imp.fail(op, "only 4-D NHWC transposed convolutions are supported")
    shape = imp.const(op.inputs[0])
    if shape is None or [int(v) for v in np.asarray(shape).reshape(-1)] != list(y):
        imp.fail(op, f"the output_shape input must be a constant equal to the output's shape {list(y)}")
    stride = (o.StrideH(), o.StrideW())
    if o.Padding() == 0:  # SAME: ceil(out / stride) windows over the output
        fwd = tuple(-(-y[1 + i] // stride[i]) for i in range(2))
    else:
        fwd = tuple(max((y[1 + i] - w[1 + i]) // stride[i] + 1, 1) for i in range(2))
    pads = imp.padding(op, o.Padding(), y[1:3], fwd, w[1:3], stride, (1, 1))
    imp.add(op, "transpose_conv", [op.inputs[2], op.inputs[1]] + imp.optional(op, 3), op.outputs[:1], stride=stride,
            pads=pads, act=imp.act(op, o.FusedActivationFunction()))


ONNX = {"ConvTranspose": lambda imp, node: imp.as_2d(node, _onnx_conv_transpose)}
TFLITE = {"TRANSPOSE_CONV": _tflite_transpose_conv}
