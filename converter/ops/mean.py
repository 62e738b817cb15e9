"""mean: int8 mean or sum over arbitrary axes (TFLM MEAN and SUM: reference_ops::QuantizedMeanOrSum,
compute_sum false / true; ONNX ReduceMean, GlobalAveragePool, ReduceSum).

Float attrs: ``axes`` (internal layout, negative values allowed), ``keep_dims`` (the output shape
comes from the output tensor; the element order is the same either way), ``compute_sum`` (SUM).

TFLM's Prepare (shared by MEAN and SUM) quantizes input_scale / output_scale to (multiplier, shift);
for MEAN its Eval then folds 1 / num_elements_in_axis into them with an integer division. The
reduced element count is static, so that second step is done here too: ``multiplier`` and
``shift`` in the options are the final values the kernels use, already divided by the count
exactly as TFLM does it at run time (SUM: not divided). Kernels then compute
clamp(MBQM(sum(x) + input_offset * count, multiplier, shift) + output_offset): one kernel for both.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import onnx_reduce, reduced_shape, resolve_axes, tflite_reducer_axes
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")

MAX_COUNT = (1 << 23) - 1  # keeps sum(x) - zero_point * count inside int32 for any int8 data


def fold_count(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """TFLM QuantizedMeanOrSum: integrate 1/count into (multiplier, shift), bit for bit."""
    s = count.bit_length() - 1  # 63 - CountLeadingZeros(uint64 count)
    s = min(s, 32)
    s = min(s, 31 + shift)
    return int((int(multiplier) << s) // count), int(shift - s)


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    axes = resolve_axes(op, op.attrs.get("axes", ()), len(x.shape))
    reduced_shape(op, g, axes)
    if len(x.shape) > 8:
        raise EdgennError(f"mean '{op.name}': at most 8 dimensions are supported, got {len(x.shape)}")
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if not 1 <= count <= MAX_COUNT:
        raise EdgennError(f"mean '{op.name}': cannot reduce {count} elements (1..{MAX_COUNT} supported)")
    mult, shift = quantize_multiplier(float(x.quant.s) / float(y.quant.s))
    if not op.attrs.get("compute_sum", False):
        mult, shift = fold_count(mult, shift, count)
    op.options = {
        "axes": np.asarray(axes, np.int32),
        "keep_dims": bool(op.attrs.get("keep_dims", len(y.shape) == len(x.shape))),
        "input_offset": -x.quant.zp,
        "output_offset": y.quant.zp,
        "multiplier": mult,
        "shift": shift,
    }


def keeps_channels(op: Op, g: Graph) -> bool:
    """Channels pass through unless the last axis is averaged."""
    rank = len(g.tensors[op.inputs[0]].shape)
    return rank > 0 and rank - 1 not in resolve_axes(op, op.attrs.get("axes", ()), rank)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = xs[0]
    rank = x.ndim - 1
    axes = sorted({(int(a) + rank if int(a) < 0 else int(a)) + 1
                   for a in np.asarray(op.attrs.get("axes", []), np.int64).reshape(-1)})
    if not axes:
        return [x.astype(np.float64)]
    f = np.sum if op.attrs.get("compute_sum", False) else np.mean
    return [f(x.astype(np.float64), axis=tuple(axes))]


# ---------------------------------------------------------------------- import

def _onnx_global_average_pool(imp, node) -> None:
    if len(imp.shape(node.input[0])) != 4:
        imp.fail("only 1-D and 2-D global pooling is supported")
    x = imp.get(node.input[0], imp.NHWC)
    y = imp.new_output(node.output[0], imp.NHWC)
    imp.add("mean", [x], [y], axes=[1, 2], keep_dims=True)


def _onnx_reduce(compute_sum: bool):
    return lambda imp, node: onnx_reduce(imp, node, "mean", compute_sum=compute_sum)


def _tflite_mean(compute_sum: bool):
    def handler(imp, op) -> None:
        ax, keep = tflite_reducer_axes(imp, op)
        imp.add(op, "mean", op.inputs[:1], op.outputs[:1], axes=ax, keep_dims=keep, compute_sum=compute_sum)
    return handler


ONNX = {"GlobalAveragePool": lambda imp, node: imp.as_2d(node, _onnx_global_average_pool),
        "ReduceMean": _onnx_reduce(False), "ReduceSum": _onnx_reduce(True)}
TFLITE = {"MEAN": _tflite_mean(False), "SUM": _tflite_mean(True)}
