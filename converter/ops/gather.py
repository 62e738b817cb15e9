"""gather: rows of an int8 tensor by constant indices (TFLM Gather, and GatherNd through a reshape;
ONNX Gather with constant indices), rank 1..6, or by an int32 index tensor computed at run time (an
embedding lookup: ONNX Gather of a constant table by token ids, TFLite GATHER with int32 positions).

Float attrs: ``axis`` (internal layout), ``batch_dims`` (default 0), ``indices`` (an integer array,
values in [0, extent of the axis)) unless the operator has a second input, the int32 indices. Output
shape: input[:axis] + indices.shape[batch_dims:] + input[axis + 1:], as TFLM's Gather. The kernel
copies bytes: the output keeps the input's parameters (a constant table is quantized per tensor).

Indices read at run time follow ONNX: a negative index counts from the end of the axis; an index
still outside the axis is clamped to the nearest row (TFLM stops with an error there, onnxruntime
refuses it), so every input gives a defined output.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import byte_copy
from edgenn.errors import EdgennError
from edgenn.runtime_py.kernels.common import clamp_indices, gather_rows

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
MAX_RANK = 6


def runtime_indices(op: Op) -> bool:
    """Whether the indices are the operator's second input (read at run time)."""
    return len(op.inputs) > 1 and bool(op.inputs[1])


def geometry(op: Op, shape: tuple[int, ...], index_shape: tuple[int, ...] | None = None) -> tuple[int, int, np.ndarray]:
    """(axis, batch_dims, indices) normalized and checked against the input shape (TFLM GatherPrepare);
    with ``index_shape`` (indices read at run time) the indices returned are zeros of that shape."""
    rank = len(shape)
    if index_shape is not None:
        idx = np.zeros(index_shape, np.int64)
    elif "indices" not in op.attrs:
        raise EdgennError(f"gather '{op.name}': has no indices")
    else:
        idx = np.asarray(op.attrs["indices"], np.int64)
    axis = int(op.attrs.get("axis", 0))
    if not -rank <= axis < rank:
        raise EdgennError(f"gather '{op.name}': axis {axis} is out of range for rank {rank}")
    axis %= rank
    bd = int(op.attrs.get("batch_dims", 0))
    bd = bd + idx.ndim if bd < 0 else bd
    if not 0 <= bd <= min(axis, idx.ndim) or tuple(idx.shape[:bd]) != tuple(shape[:bd]):
        raise EdgennError(f"gather '{op.name}': batch_dims {op.attrs.get('batch_dims')} does not fit the input "
                          f"{tuple(shape)}, indices {idx.shape} and axis {axis}")
    if idx.size == 0 or idx.min() < 0 or idx.max() >= shape[axis]:
        raise EdgennError(f"gather '{op.name}': indices must lie in [0, {shape[axis]}) (axis {axis} of {tuple(shape)}), "
                          f"got {idx.min() if idx.size else 'none'}..{idx.max() if idx.size else ''}")
    return axis, bd, idx


def out_shape(op: Op, shape: tuple[int, ...], index_shape: tuple[int, ...] | None = None) -> tuple[int, ...]:
    axis, bd, idx = geometry(op, shape, index_shape)
    return tuple(shape[:axis]) + tuple(idx.shape[bd:]) + tuple(shape[axis + 1:])


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    byte_copy(op, g, MAX_RANK)
    index_shape = None
    if runtime_indices(op):
        it = g.tensors[op.inputs[1]]
        if it.dtype != "int32" or it.is_const:
            raise EdgennError(f"gather '{op.name}': the indices {it.name!r} must be an int32 activation, got "
                              f"{'a constant ' if it.is_const else ''}{it.dtype}")
        index_shape = tuple(it.shape)
    axis, bd, idx = geometry(op, x.shape, index_shape)
    want = out_shape(op, x.shape, index_shape)
    if tuple(y.shape) != want and not (y.size == 1 and want == ()):
        raise EdgennError(f"gather '{op.name}': output shape {y.shape} should be {want}")
    op.options = {"axis": axis, "batch_dims": bd,
                  "indices": np.zeros(0, np.int32) if index_shape is not None else idx.reshape(-1).astype(np.int32)}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    t = g.tensors[op.inputs[0]]
    x = np.broadcast_to(xs[0], (n,) + tuple(t.shape)) if t.is_const else xs[0]
    y_shape = (n,) + tuple(g.tensors[op.outputs[0]].shape)
    if runtime_indices(op):
        axis, bd, _ = geometry(op, t.shape, tuple(g.tensors[op.inputs[1]].shape))
        rows = [gather_rows(x[s:s + 1], t.shape, axis, bd, clamp_indices(xs[1][s], t.shape[axis])) for s in range(n)]
        return [np.concatenate(rows).reshape(y_shape)]
    axis, bd, idx = geometry(op, t.shape)
    return [gather_rows(x, t.shape, axis, bd, idx).reshape(y_shape)]


# ---------------------------------------------------------------------- import

def _onnx_gather(imp, node) -> None:
    """Gather of an activation by constant indices (negative ones count from the end). A scalar or
    1-D index keeps the stored layout (the gathered axis mapped through it); more index axes work
    in the ONNX layout."""
    shape = imp.shape(node.input[0])
    rank = len(shape)
    if not imp.is_const(node.input[1]):
        _onnx_gather_runtime(imp, node)
        return
    idx = np.asarray(imp.const(node.input[1], "indices"))
    if idx.dtype.kind not in "iu":
        imp.fail(f"indices of type {idx.dtype} are not integers")
    axis = int(imp.attr(node, "axis", 0))
    if not -rank <= axis < rank:
        imp.fail(f"axis {axis} is out of range for rank {rank}")
    axis %= rank
    idx = idx.astype(np.int64)
    idx = np.where(idx < 0, idx + shape[axis], idx)
    if idx.size == 0 or idx.min() < 0 or idx.max() >= shape[axis]:
        imp.fail(f"indices lie outside 0..{shape[axis] - 1}")
    lay = imp.layout(node.input[0]) if idx.ndim <= 1 else tuple(range(rank))
    x = imp.get(node.input[0], lay)
    if idx.ndim == 0:
        out_lay = tuple(p - (p > axis) for p in lay if p != axis)
    else:
        out_lay = lay if idx.ndim == 1 else None
    y = imp.new_output(node.output[0], out_lay)
    imp.add("gather", [x], [y], axis=lay.index(axis), indices=idx)


def _onnx_gather_runtime(imp, node) -> None:
    """Gather by indices computed at run time (token ids: an int32 model input, or an int32 value):
    an embedding lookup, in the ONNX layout."""
    idx_name = node.input[1]
    it = imp.g.tensors[imp.get(idx_name)]
    if it.dtype != "int32":
        imp.fail(f"indices '{idx_name}' computed at run time must be integers (an int32 / int64 model input), "
                 f"not {it.dtype}")
    rank = len(imp.shape(node.input[0]))
    axis = int(imp.attr(node, "axis", 0))
    if not -rank <= axis < rank:
        imp.fail(f"axis {axis} is out of range for rank {rank}")
    y = imp.new_output(node.output[0])
    imp.add("gather", [imp.get(node.input[0]), it.name], [y], axis=axis % rank)


def _tflite_gather(imp, op) -> None:
    """GATHER (constant positions, or int32 positions computed at run time; axis and batch_dims options)."""
    c = imp.const(op.inputs[1])
    o = op.options
    if c is None:
        if imp.tensor(op.inputs[1]).dtype != "int32":
            imp.fail(op, f"positions computed at run time must be int32, got {imp.tensor(op.inputs[1]).dtype}")
        imp.add(op, "gather", op.inputs[:2], op.outputs[:1], axis=int(o.Axis()) if o is not None else 0,
                batch_dims=int(o.BatchDims()) if o is not None else 0)
        return
    imp.unary(op, "gather", indices=np.asarray(c).astype(np.int64), axis=int(o.Axis()) if o is not None else 0,
              batch_dims=int(o.BatchDims()) if o is not None else 0)


def _tflite_gather_nd(imp, op) -> None:
    """GATHER_ND with constant indices (..., K): a gather along axis 0 of the params viewed as
    (d0 * ... * dK-1, rest) (a reshape: no copy), with each index tuple made one flat row number."""
    c = imp.const(op.inputs[1])
    if c is None:
        imp.fail(op, "the indices must be constant")
    idx = np.asarray(c).astype(np.int64)
    shape = imp.shape(op.inputs[0])
    if idx.ndim < 1 or not 1 <= idx.shape[-1] <= len(shape):
        imp.fail(op, f"indices of shape {list(idx.shape)} do not index params of shape {list(shape)}")
    k = idx.shape[-1]
    if np.any(idx < 0) or np.any(idx >= np.asarray(shape[:k])):
        imp.fail(op, f"indices lie outside the params' shape {list(shape)} (TFLM fails on them too)")
    rows = np.ravel_multi_index(tuple(np.moveaxis(idx, -1, 0)), shape[:k]) if idx.size else idx[..., 0]
    x = imp.tensor(op.inputs[0])
    flat = imp.g.add_tensor(imp.g.unique(x.name + "_rows"), (int(np.prod(shape[:k])),) + tuple(shape[k:]), "int8",
                            quant=x.quant)
    imp.g.add_op("reshape", flat.name, [x.name], [flat.name])
    imp.g.add_op("gather", imp.tensor(op.outputs[0]).name, [flat.name], [imp.tensor(op.outputs[0]).name],
                 indices=np.asarray(rows, np.int64), axis=0, batch_dims=0)


ONNX = {"Gather": _onnx_gather}
TFLITE = {"GATHER": _tflite_gather, "GATHER_ND": _tflite_gather_nd}
