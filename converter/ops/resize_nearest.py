"""resize_nearest: int8 nearest-neighbour resize of the H and W axes
(TFLM reference_ops::ResizeNearestNeighbor).

Float attrs: ``tflite`` (align_corners, half_pixel_centers) for TFLM's own index arithmetic, or
ONNX's ``coord``, ``nearest_mode`` and ``scales`` (common.onnx_resize, in resize_bilinear's ONNX
table, maps ONNX Resize / Upsample with mode "nearest" here). prepare computes the source row of
every output row and the source column of every output column (common.nearest_table, float32
arithmetic as TFLM or onnxruntime); the kernel copies pixels. The output keeps the input's
quantization.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import nearest_table, resize_shapes, tflite_resize_flags

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")


def _tables(op: Op, g: Graph) -> tuple[np.ndarray, np.ndarray]:
    h, w, oh, ow = resize_shapes(op, g)
    return nearest_table(op, h, oh, 0), nearest_table(op, w, ow, 1)


def prepare(op: Op, g: Graph) -> None:
    in_y, in_x = _tables(op, g)
    op.options = {"in_y": in_y, "in_x": in_x}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    in_y, in_x = _tables(op, g)
    return [xs[0].astype(np.float64)[..., in_y, :, :][..., in_x, :]]


def _tflite_resize(imp, op) -> None:
    flags = tflite_resize_flags(imp, op)
    imp.add(op, "resize_nearest", op.inputs[:1], op.outputs[:1], tflite=flags)


ONNX: dict = {}
TFLITE = {"RESIZE_NEAREST_NEIGHBOR": _tflite_resize}
