"""l2_normalization: an int8 requantizing copy, y = requant(x) (the operator template: change what it computes).

The converter's part of the operator contract (converter/ops/__init__.py):

- ``TRAITS``: every field stated (output quantization, weights, fused activation, same-quant inputs,
  structured-pruning channel mapping);
- ``prepare(op, g)``: check the tensors and fill ``op.options`` (format/schema/ops/l2_normalization.fbs) exactly
  as TFLM's Prepare would; called on both the ONNX and the TFLite path;
- ``float_run(op, g, xs, n)``: the float computation (calibration and pruning execute the float graph);
- ``ONNX`` / ``TFLITE``: import handlers by source operator type, ``handler(importer, node)``;
- optional: ``quantize_constants``, ``fixed_output_qparams``, ``macs``, ``scratch_bytes``,
  ``keeps_channels``, ``mean_output``, ``design_rows``.
Shared helpers: converter/ops/common.py (never import another operator's module).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import per_tensor, same_shape
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    qx = per_tensor(op, g, op.inputs[0])
    qy = per_tensor(op, g, op.outputs[0])
    mult, shift = quantize_multiplier(qx.s / qy.s)
    op.options = {"input_offset": -qx.zp, "output_offset": qy.zp, "multiplier": mult, "shift": shift}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    """Outputs as (n, *shape) float arrays, before any fused activation."""
    return [xs[0].astype(np.float64)]


# Import handlers: e.g. ONNX = {"Identity": lambda imp, node: imp.elementwise(node, "l2_normalization")} and
# TFLITE = {"SOME_BUILTIN": lambda imp, op: imp.unary(op, "l2_normalization")}; see converter/onnx_import.py
# (OnnxImporter) and converter/tflite_import.py (TfliteImporter) for the helpers they offer.
ONNX: dict = {}
TFLITE: dict = {}
