"""depthwise_conv2d: int8 depthwise convolution (NHWC), per-channel weights, int32 bias.

Float attrs: as conv2d plus ``depth_multiplier``. Weights are (1, KH, KW, Ci * mult), quantized
along axis 3; output channel ``c * mult + m`` reads input channel ``c`` (TFLM DepthwiseConvPerChannel).
"""
from __future__ import annotations

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops.conv2d import geometry, quant_options
from edgenn.converter.quantize_util import quantize_weights_and_bias
from edgenn.errors import EdgennError

WEIGHT_AXIS = 3


def quantize_constants(op: Op, g: Graph) -> None:
    quantize_weights_and_bias(op, g, WEIGHT_AXIS)


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
