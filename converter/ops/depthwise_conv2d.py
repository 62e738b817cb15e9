"""depthwise_conv2d: int8 depthwise convolution (NHWC), per-channel weights, int32 bias.

Float attrs: as conv2d plus ``depth_multiplier``. Weights are (1, KH, KW, Ci * mult), quantized
along axis 3; output channel ``c * mult + m`` reads input channel ``c`` (TFLM DepthwiseConvPerChannel).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import conv_geometry, conv_quant_options
from edgenn.converter.quantize_util import quantize_weights_and_bias
from edgenn.errors import EdgennError

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=3, fused_activation=True, same_quant_inputs=False,
                    channels="elementwise")


def quantize_constants(op: Op, g: Graph) -> None:
    quantize_weights_and_bias(op, g, TRAITS.weight_axis)


def prepare(op: Op, g: Graph) -> None:
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    geo = conv_geometry(op, g)
    ci, co = int(x.shape[3]), int(w.shape[3])
    if int(w.shape[0]) != 1:
        raise EdgennError(f"depthwise_conv2d '{op.name}': weights must be (1, KH, KW, C), got {list(w.shape)}")
    if ci < 1 or co % ci or int(y.shape[3]) != co:
        raise EdgennError(f"depthwise_conv2d '{op.name}': output depth {y.shape[3]} / weights depth {co} is not "
                          f"a multiple of the input depth {ci}")
    mult = co // ci
    if "depth_multiplier" in op.attrs and int(op.attrs["depth_multiplier"]) != mult:
        raise EdgennError(f"depthwise_conv2d '{op.name}': depth_multiplier={op.attrs['depth_multiplier']} but "
                          f"weights depth {co} / input depth {ci} = {mult}")
    op.options = {**geo, "depth_multiplier": mult, **conv_quant_options(op, g, co)}


def macs(op: Op, g: Graph) -> int:
    w, y = g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    return int(y.size * w.shape[1] * w.shape[2])


def keeps_channels(op: Op, g: Graph) -> bool:
    """With multiplier 1 and constant weights, output channel c reads input channel c only."""
    w = g.tensors[op.inputs[1]].data if len(op.inputs) > 1 else None
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    c = x.shape[-1] if x.shape else 0
    b = g.tensors[op.inputs[2]].data if len(op.inputs) > 2 and op.inputs[2] else None
    return (w is not None and not x.is_const and w.ndim == 4 and w.shape[3] == c == y.shape[-1]
            and int(op.attrs.get("depth_multiplier", 1)) == 1
            and (len(op.inputs) < 3 or not op.inputs[2] or (b is not None and b.size == c)))


# ---------------------------------------------------------------------- float

def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x, w, b = fx.images(xs[0]), xs[1], xs[2] if len(xs) > 2 else None
    y_t = g.tensors[op.outputs[0]]
    _, kh, kw, co = w.shape
    ci = x.shape[-1]
    if co % ci:
        raise EdgennError(f"depthwise_conv2d '{op.name}': weights depth {co} is not a multiple of input depth {ci}")
    mult = co // ci
    stride, dilation, tl = fx.window_geometry(op)
    out_hw = (y_t.shape[1], y_t.shape[2])
    acc = np.zeros((x.shape[0],) + out_hw + (co,), np.float64)
    for ky, kx, v in fx.taps(x, (kh, kw), stride, dilation, tl, out_hw, 0.0):
        # output channel c * mult + j reads input channel c
        acc += (np.repeat(v, mult, axis=-1) if mult > 1 else v) * w[0, ky, kx]
    if b is not None:
        acc += b
    return [acc]


def mean_output(op: Op, dw: np.ndarray, mean_in: np.ndarray) -> np.ndarray:
    """Expected output change per channel of weights changed by ``dw`` on inputs of per-channel mean ``mean_in``."""
    mult = dw.shape[3] // mean_in.size
    return dw.sum(axis=(0, 1, 2)) * np.repeat(mean_in, mult)


# ---------------------------------------------------------------------- import (ONNX: conv2d's Conv handler)

def _tflite_depthwise(imp, op) -> None:
    x, w, y = imp.shape(op.inputs[0]), imp.shape(op.inputs[1]), imp.shape(op.outputs[0])
    attrs = imp.conv_attrs(op)
    mult = y[3] // x[3] if x[3] else 0
    if mult * x[3] != y[3] or w[3] != y[3]:
        imp.fail(op, f"depthwise channels do not match (input {x[3]}, filter {w[3]}, output {y[3]})")
    imp.add(op, "depthwise_conv2d", op.inputs[:3], op.outputs[:1], depth_multiplier=mult, **attrs)


ONNX: dict = {}
TFLITE = {"DEPTHWISE_CONV_2D": _tflite_depthwise}
