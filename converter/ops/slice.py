"""slice: a strided slice of an int8 tensor (TFLM Slice and StridedSlice; ONNX Slice), rank 1..6.

Float attrs, per internal axis: ``begin``, ``end``, ``strides`` (default 1), and the TFLite bit masks
``begin_mask``, ``end_mask``, ``shrink_mask`` (default 0). Indices follow TFLM's StridedSlice:
negative ones count from the end, then they are clamped into the axis (ONNX Slice has the same
rules); a shrunk axis takes the one element at ``begin`` and is absent from the output. The kernel
copies bytes: the output keeps the input's parameters. A slice that is a contiguous byte range of
its input is planned as an alias of those bytes (no copy).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import byte_copy, strided_slice_bounds
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.kernels.common import slice_index, take_axes

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
MAX_RANK = 6


def bounds(op: Op, shape: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(start, count, stride) per axis from the float attrs (a one-line error when they are invalid)."""
    a = op.attrs
    rank = len(shape)
    begin = list(a.get("begin", [0] * rank))
    end = list(a.get("end", shape))
    strides = list(a.get("strides", [1] * rank))
    if not len(begin) == len(end) == len(strides) == rank:
        raise EdgennError(f"slice '{op.name}': begin {begin}, end {end} and strides {strides} need one value per "
                          f"axis of the input {tuple(shape)}")
    try:
        return strided_slice_bounds(shape, begin, end, strides, int(a.get("begin_mask", 0)), int(a.get("end_mask", 0)),
                                    int(a.get("shrink_mask", 0)))
    except ValueError as e:
        raise EdgennError(f"slice '{op.name}': {e} (input {tuple(shape)})") from None


def out_shape(op: Op, shape: tuple[int, ...]) -> tuple[int, ...]:
    shrink = int(op.attrs.get("shrink_mask", 0))
    return tuple(c for d, (_, c, _) in enumerate(bounds(op, shape)) if not shrink >> d & 1)


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    byte_copy(op, g, MAX_RANK)
    b = bounds(op, x.shape)
    if any(c == 0 for _, c, _ in b):
        raise UnsupportedOpError(f"slice '{op.name}': the slice of {x.shape} is empty (begin {op.attrs.get('begin')}, "
                                 f"end {op.attrs.get('end')}, strides {op.attrs.get('strides')})")
    want = out_shape(op, x.shape)
    if tuple(y.shape) != want and not (y.size == 1 and want == ()):
        raise EdgennError(f"slice '{op.name}': output shape {y.shape} should be {want}")
    op.options = {"begin": np.asarray([v[0] for v in b], np.int32), "stride": np.asarray([v[2] for v in b], np.int32),
                  "size": np.asarray([v[1] for v in b], np.int32)}


def keeps_channels(op: Op, g: Graph) -> bool:
    """Channels pass through when the last axis is taken whole, in order."""
    x = g.tensors[op.inputs[0]]
    start, count, stride = bounds(op, x.shape)[-1]
    return not int(op.attrs.get("shrink_mask", 0)) >> (len(x.shape) - 1) & 1 and count == x.shape[-1] and stride == 1


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    shape = g.tensors[op.inputs[0]].shape
    x = np.broadcast_to(xs[0], (n,) + tuple(shape)) if g.tensors[op.inputs[0]].is_const else xs[0]
    y = take_axes(x, [slice_index(b, c, s) for b, c, s in bounds(op, shape)])
    return [y.reshape((n,) + tuple(g.tensors[op.outputs[0]].shape))]


# ---------------------------------------------------------------------- import

def _onnx_slice(imp, node) -> None:
    """Slice: opset 1 (starts, ends, axes attributes) and 10+ (inputs, with steps); negative,
    clamped and INT64_MAX indices, negative steps. Axes are mapped through the stored layout."""
    shape = imp.shape(node.input[0])
    rank = len(shape)
    if imp.opset < 10:
        starts, ends = list(imp.attr(node, "starts")), list(imp.attr(node, "ends"))
        axes = imp.attr(node, "axes", None)
        steps = [1] * len(starts)
    else:
        starts = imp.const(node.input[1]).reshape(-1).tolist()
        ends = imp.const(node.input[2]).reshape(-1).tolist()
        axes = imp.optional_const(node, 3)
        st = imp.optional_const(node, 4)
        steps = [1] * len(starts) if st is None else st.reshape(-1).tolist()
    axes = list(range(len(starts))) if axes is None else [int(a) for a in np.asarray(axes).reshape(-1)]
    if not len(axes) == len(starts) == len(ends) == len(steps):
        imp.fail("starts, ends, axes and steps differ in length")
    if any(not -rank <= a < rank for a in axes):
        imp.fail(f"axes {axes} are out of range for rank {rank}")
    if any(int(s) == 0 for s in steps):
        imp.fail("a step of 0 is invalid")
    begin, end, strides = [0] * rank, list(shape), [1] * rank
    for a, b, e, s in zip(axes, starts, ends, steps):
        a %= rank
        begin[a], end[a], strides[a] = int(b), int(e), int(s)
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    y = imp.new_output(node.output[0], lay)
    imp.add("slice", [x], [y], begin=[begin[p] for p in lay], end=[end[p] for p in lay],
            strides=[strides[p] for p in lay])


def _tflite_slice(imp, op) -> None:
    """SLICE (begin, size; size -1 takes the rest of the axis) and STRIDED_SLICE (begin, end, strides
    and the begin / end / shrink-axis masks; TFLM's kernel ignores ellipsis and new-axis masks)."""
    consts = [imp.const(i) for i in op.inputs[1:]]
    if any(c is None for c in consts):
        imp.fail(op, "begin, end/size and strides must be constant (TFLM's kernel needs constant ones too)")
    shape = imp.shape(op.inputs[0])
    vals = [np.asarray(c).reshape(-1).astype(np.int64).tolist() for c in consts]
    if any(len(v) != len(shape) for v in vals):
        imp.fail(op, f"begin/end/size/strides need one value per axis of the input {list(shape)}")
    if op.code == "SLICE":
        begin, size = vals
        if any(b < 0 or (s != -1 and (s < 0 or b + s > n)) for b, s, n in zip(begin, size, shape)):
            imp.fail(op, f"begin {begin} and size {size} leave the input {list(shape)}")
        end = [n if s == -1 else b + s for b, s, n in zip(begin, size, shape)]
        imp.unary(op, "slice", begin=begin, end=end, strides=[1] * len(shape))
        return
    o = op.options
    if o is not None and (o.EllipsisMask() or o.NewAxisMask()):
        imp.fail(op, "ellipsis_mask and new_axis_mask are not supported: TFLM's STRIDED_SLICE kernel ignores "
                     "them (it computes as if they were 0)")
    if o is not None and hasattr(o, "Offset") and o.Offset():
        imp.fail(op, "offset=true is not supported: TFLM's STRIDED_SLICE kernel ignores it")
    masks = {} if o is None else {"begin_mask": o.BeginMask(), "end_mask": o.EndMask(),
                                   "shrink_mask": o.ShrinkAxisMask()}
    begin, end, strides = vals
    if any(s == 0 for s in strides):
        imp.fail(op, "a stride of 0 is invalid")
    imp.unary(op, "slice", begin=begin, end=end, strides=strides, **masks)


def _tflite_reverse(imp, op) -> None:
    """REVERSE_V2: a slice with stride -1 along the reversed axes (TFLM reverses a contiguous run of
    axes only, from a constant int32 axis tensor)."""
    axes = imp.const(op.inputs[1])
    shape = imp.shape(op.inputs[0])
    rank = len(shape)
    if axes is None or axes.dtype != np.int32 or axes.ndim != 1:
        imp.fail(op, "the axes must be a constant 1-D int32 tensor (as TFLM requires)")
    ax = sorted(int(a) % rank if -rank <= int(a) < rank else -1 for a in axes)
    if any(a < 0 for a in ax) or len(set(ax)) != len(ax):
        imp.fail(op, f"axes {axes.tolist()} are out of range or repeated for rank {rank}")
    if any(b != a + 1 for a, b in zip(ax, ax[1:])):
        imp.fail(op, f"axes {ax} are not contiguous: TFLM's REVERSE_V2 reverses a contiguous run of axes only")
    rev = set(ax)
    imp.unary(op, "slice", begin=[n - 1 if d in rev else 0 for d, n in enumerate(shape)],
              end=[-1 if d in rev else n for d, n in enumerate(shape)],
              strides=[-1 if d in rev else 1 for d in range(rank)], end_mask=sum(1 << d for d in rev))


ONNX = {"Slice": _onnx_slice}
TFLITE = {"SLICE": _tflite_slice, "STRIDED_SLICE": _tflite_slice, "REVERSE_V2": _tflite_reverse}
