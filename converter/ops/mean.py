"""mean: int8 mean over arbitrary axes (TFLM MEAN: reference_ops::QuantizedMeanOrSum, compute_sum=false).

Float attrs: ``axes`` (internal layout, negative values allowed), ``keep_dims`` (the output shape
comes from the output tensor; the element order is the same either way).

TFLM's Prepare quantizes input_scale / output_scale to (multiplier, shift); its Eval then folds
1 / num_elements_in_axis into them with an integer division. The reduced element count is static,
so that second step is done here too: ``multiplier`` and ``shift`` in the options are the final
values the kernels use, already divided by the count exactly as TFLM does it at run time.
Kernels then compute clamp(MBQM(sum(x) + input_offset * count, multiplier, shift) + output_offset).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")

MAX_COUNT = (1 << 23) - 1  # keeps sum(x) - zero_point * count inside int32 for any int8 data


def resolve_axes(axes, rank: int) -> list[int]:
    """TFLite ResolveAxis: negative axes wrap, duplicates drop; sorted."""
    out = set()
    for a in np.asarray(axes, dtype=np.int64).reshape(-1).tolist():
        a = a + rank if a < 0 else a
        if not 0 <= a < rank:
            raise EdgennError(f"mean: axis {a} out of range for rank {rank}")
        out.add(int(a))
    return sorted(out)


def fold_count(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """TFLM QuantizedMeanOrSum: integrate 1/count into (multiplier, shift), bit for bit."""
    s = count.bit_length() - 1  # 63 - CountLeadingZeros(uint64 count)
    s = min(s, 32)
    s = min(s, 31 + shift)
    return int((int(multiplier) << s) // count), int(shift - s)


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    axes = resolve_axes(op.attrs.get("axes", ()), len(x.shape))
    kept = [d for i, d in enumerate(x.shape) if i not in axes]
    if int(np.prod(kept, dtype=np.int64)) != y.size:
        raise EdgennError(f"mean '{op.name}': output shape {y.shape} does not match input {x.shape} "
                          f"reduced over {axes}")
    if len(x.shape) > 8:
        raise EdgennError(f"mean '{op.name}': at most 8 dimensions are supported, got {len(x.shape)}")
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if not 1 <= count <= MAX_COUNT:
        raise EdgennError(f"mean '{op.name}': cannot average {count} elements (1..{MAX_COUNT} supported)")
    mult, shift = quantize_multiplier(float(x.quant.s) / float(y.quant.s))
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
    return rank > 0 and rank - 1 not in resolve_axes(op.attrs.get("axes", ()), rank)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = xs[0]
    rank = x.ndim - 1
    axes = sorted({(int(a) + rank if int(a) < 0 else int(a)) + 1
                   for a in np.asarray(op.attrs.get("axes", []), np.int64).reshape(-1)})
    return [x.astype(np.float64).mean(axis=tuple(axes)) if axes else x.astype(np.float64)]


# ---------------------------------------------------------------------- import

def _onnx_global_average_pool(imp, node) -> None:
    if len(imp.shape(node.input[0])) != 4:
        imp.fail("only 1-D and 2-D global pooling is supported")
    x = imp.get(node.input[0], imp.NHWC)
    y = imp.new_output(node.output[0], imp.NHWC)
    imp.add("mean", [x], [y], axes=[1, 2], keep_dims=True)


def _onnx_reduce_mean(imp, node) -> None:
    shape = imp.shape(node.input[0])
    rank = len(shape)
    axes = imp.attr(node, "axes", None)
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = imp.const(node.input[1]).reshape(-1).tolist()
    if not axes:
        if imp.attr(node, "noop_with_empty_axes", 0):
            imp.alias(node.output[0], node.input[0])
            return
        axes = list(range(rank))
    axes = sorted({int(a) % rank for a in axes})
    keep = bool(imp.attr(node, "keepdims", 1))
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    if keep:
        out_lay = lay
    else:
        # Reduce in the stored layout; the remaining axes keep their stored order (renumbered).
        out_lay = tuple(a - sum(1 for r in axes if r < a) for a in lay if a not in axes)
    y = imp.new_output(node.output[0], out_lay)
    imp.add("mean", [x], [y], axes=[lay.index(a) for a in axes], keep_dims=keep)


def _tflite_mean(imp, op) -> None:
    axes = imp.const(op.inputs[1])
    if axes is None:
        imp.fail(op, "the axes must be constant")
    rank = len(imp.shape(op.inputs[0]))
    ax = sorted({int(a) % rank for a in np.asarray(axes).reshape(-1)})
    keep = bool(op.options.KeepDims()) if op.options is not None else False
    imp.add(op, "mean", op.inputs[:1], op.outputs[:1], axes=ax, keep_dims=keep)


ONNX = {"GlobalAveragePool": lambda imp, node: imp.as_2d(node, _onnx_global_average_pool),
        "ReduceMean": _onnx_reduce_mean}
TFLITE = {"MEAN": _tflite_mean}
