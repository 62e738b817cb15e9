"""avg_pool2d: int8 average pooling (TFLM reference_integer_ops::AveragePool).

Float attrs as max_pool2d. The sum of the raw int8 values of the in-bounds window elements is
divided by their count with rounding half away from zero (the padding is excluded, not counted as
zeros); the output keeps the input's quantization.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import pool_options

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=True, same_quant_inputs=False,
                    channels="elementwise")


def prepare(op: Op, g: Graph) -> None:
    op.options = pool_options(op, g)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = fx.images(xs[0]).astype(np.float64)
    y_t = g.tensors[op.outputs[0]]
    k = tuple(int(v) for v in op.attrs["filter"])
    stride, _, tl = fx.window_geometry(op)
    out_hw = (y_t.shape[1], y_t.shape[2])
    acc = np.zeros((x.shape[0],) + out_hw + (x.shape[-1],), np.float64)
    count = np.zeros((1,) + out_hw + (1,), np.float64)
    ones = np.ones((1,) + x.shape[1:3] + (1,), np.float64)
    # Padding is excluded from the count (ONNX count_include_pad=0, TFLM); the importer turns
    # count_include_pad=1 into an explicit pad op in front, so zeros are counted there.
    for (_, _, v), (_, _, c) in zip(fx.taps(x, k, stride, (1, 1), tl, out_hw, 0.0),
                                    fx.taps(ones, k, stride, (1, 1), tl, out_hw, 0.0)):
        acc += v
        count += c
    return [acc / np.maximum(count, 1.0)]


ONNX = {"AveragePool": lambda imp, node: imp.as_2d(node, lambda i, n: i.pool(n, "avg_pool2d"))}
TFLITE = {"AVERAGE_POOL_2D": lambda imp, op: imp.pool(op, "avg_pool2d")}
