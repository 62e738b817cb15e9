"""depthwise_conv2d: int8 depthwise convolution (NHWC), per-channel weights, int32 bias.

Float attrs: as conv2d plus ``depth_multiplier``. Weights are (1, KH, KW, Ci * mult), quantized
along axis 3; output channel ``c * mult + m`` reads input channel ``c`` (TFLM DepthwiseConvPerChannel).
"""
from __future__ import annotations

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops.conv2d import _bias, geometry, quant_options
from edgenn.converter.quantize_util import bias_int32, symmetric_per_channel
from edgenn.errors import EdgennError

WEIGHT_AXIS = 3


def quantize_constants(op: Op, g: Graph) -> None:
    x = g.tensors[op.inputs[0]]
    w = g.tensors[op.inputs[1]]
    b = _bias(op, g)
    if w.dtype == "float32":
        qw, wq = symmetric_per_channel(w.data, axis=WEIGHT_AXIS, bias=None if b is None else b.data,
                                       input_scale=x.quant.s)
        w.data, w.dtype, w.quant = qw, "int8", wq
    if b is not None and b.dtype == "float32":
        b.data, b.quant = bias_int32(b.data, x.quant.s, w.quant.scale)
        b.dtype = "int32"


def prepare(op: Op, g: Graph) -> None:
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    geo = geometry(op, g)
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
    op.options = {**geo, "depth_multiplier": mult, **quant_options(op, g, co)}


def macs(op: Op, g: Graph) -> int:
    w, y = g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    return int(y.size * w.shape[1] * w.shape[2])
