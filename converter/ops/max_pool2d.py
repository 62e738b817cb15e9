"""max_pool2d: int8 max pooling (TFLM reference_integer_ops::MaxPool).

Float attrs: ``filter`` (fh, fw), ``stride`` (sh, sw), ``pads`` (top, left, bottom, right),
``act`` (lo, hi) fused activation in real units. The output keeps the input's quantization.
Out-of-bounds window positions are excluded (never compared), as in TFLM; only the top/left pads
position the windows, the output height/width come from the output tensor.
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
    x = fx.images(xs[0])
    y_t = g.tensors[op.outputs[0]]
    k = tuple(int(v) for v in op.attrs["filter"])
    stride, _, tl = fx.window_geometry(op)
    m = None
    # out-of-bounds positions are never compared (TFLM; ONNX pads with -inf)
    for _, _, v in fx.taps(x, k, stride, (1, 1), tl, (y_t.shape[1], y_t.shape[2]), -np.inf):
        m = v.copy() if m is None else np.maximum(m, v, out=m)
    return [m]


def _onnx_global_max_pool(imp, node) -> None:
    x_shape = imp.shape(node.input[0])
    if len(x_shape) != 4:
        imp.fail("only 1-D and 2-D global pooling is supported")
    x = imp.get(node.input[0], imp.NHWC)
    y = imp.new_output(node.output[0], imp.NHWC)
    imp.add("max_pool2d", [x], [y], filter=tuple(x_shape[2:]), stride=(1, 1), pads=(0, 0, 0, 0), act=(None, None))


ONNX = {"MaxPool": lambda imp, node: imp.as_2d(node, lambda i, n: i.pool(n, "max_pool2d")),
        "GlobalMaxPool": lambda imp, node: imp.as_2d(node, _onnx_global_max_pool)}
TFLITE = {"MAX_POOL_2D": lambda imp, op: imp.pool(op, "max_pool2d")}
