"""resize_bilinear: int8 bilinear resize of the H and W axes (TFLM reference_ops::ResizeBilinearInteger).

Float attrs: ``tflite`` (align_corners, half_pixel_centers) for TFLM's own arithmetic, or ONNX's
``coord`` (coordinate_transformation_mode) and ``scales`` (sh, sw or None); see
converter/ops/common.py (resize). prepare turns them into per-axis tables: output row i mixes input
rows y0[i] and y1[i] with weights 1024 - fy[i] and fy[i] (columns likewise), and the kernel rounds
the 20-bit sum half away from zero, as TFLM does. The output keeps the input's quantization (TFLM
interpolates the input bytes).

ONNX Resize and Upsample (both modes) are handled here for both resize operators
(common.onnx_resize decides between resize_bilinear and resize_nearest).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import BILINEAR_ONE, bilinear_tables, onnx_resize, resize_shapes, tflite_resize_flags

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")


def _tables(op: Op, g: Graph):
    h, w, oh, ow = resize_shapes(op, g)
    return bilinear_tables(op, h, oh, 0), bilinear_tables(op, w, ow, 1)


def prepare(op: Op, g: Graph) -> None:
    (y0, y1, fy), (x0, x1, fx) = _tables(op, g)
    op.options = {"y0": y0, "y1": y1, "fy": fy, "x0": x0, "x1": x1, "fx": fx}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    """The interpolation the int8 kernel computes, without its rounding (the same tables)."""
    (y0, y1, fy), (x0, x1, fx) = _tables(op, g)
    x = xs[0].astype(np.float64)
    wy = (fy / BILINEAR_ONE)[:, None, None]
    rows = x[..., y0, :, :] * (1 - wy) + x[..., y1, :, :] * wy
    wx = (fx / BILINEAR_ONE)[:, None]
    return [rows[..., x0, :] * (1 - wx) + rows[..., x1, :] * wx]


def _tflite_resize(imp, op) -> None:
    flags = tflite_resize_flags(imp, op)
    if all(flags):
        imp.fail(op, "align_corners and half_pixel_centers are both set (TFLM refuses it)")
    imp.add(op, "resize_bilinear", op.inputs[:1], op.outputs[:1], tflite=flags)


ONNX = {"Resize": onnx_resize, "Upsample": onnx_resize}
TFLITE = {"RESIZE_BILINEAR": _tflite_resize}
