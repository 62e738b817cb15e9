"""tile: repeat an int8 tensor along its axes (TFLM BroadcastTo; ONNX Expand and Tile), rank 1..6.

No float attrs: the output shape says it all. Output element i takes input element i mod the
input's extent along every axis, the input right-aligned to the output's rank (an extent 1 is
broadcast, an extent n dividing the output's is tiled). The kernel copies bytes: the output keeps
the input's parameters. TFLite's own TILE has no kernel in TFLM and is refused by the importer.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import byte_copy
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.kernels.common import take_axes, tile_index

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
MAX_RANK = 6


def aligned_input_shape(op: Op, g: Graph) -> tuple[int, ...]:
    """The input shape right-aligned to the output's rank, checked: every output extent a multiple."""
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if len(y.shape) < len(x.shape) or len(y.shape) > MAX_RANK:
        raise UnsupportedOpError(f"tile '{op.name}': output rank {len(y.shape)} must lie between the input's "
                                 f"({len(x.shape)}) and {MAX_RANK}")
    s = (1,) * (len(y.shape) - len(x.shape)) + tuple(x.shape)
    if any(n == 0 or m % n for n, m in zip(s, y.shape)):
        raise EdgennError(f"tile '{op.name}': output shape {y.shape} does not repeat the input shape {x.shape}")
    return s


def prepare(op: Op, g: Graph) -> None:
    byte_copy(op, g, MAX_RANK)
    aligned_input_shape(op, g)
    op.options = {}


def keeps_channels(op: Op, g: Graph) -> bool:
    """Channels pass through when the last axis is not repeated."""
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    return bool(x.shape) and x.shape[-1] == y.shape[-1]


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    s = aligned_input_shape(op, g)
    y = g.tensors[op.outputs[0]].shape
    x = np.asarray(xs[0]).reshape((-1,) + s)
    return [np.broadcast_to(take_axes(x, [tile_index(m, k) for m, k in zip(y, s)]), (n,) + tuple(y))]


# ---------------------------------------------------------------------- import

def _onnx_tile(imp, node) -> None:
    """Expand (numpy broadcasting to a constant shape) and Tile (constant repeats). At equal rank the
    stored layout is kept; a higher output rank works in the ONNX layout."""
    shape = imp.shape(node.input[0])
    if node.op_type == "Tile":
        reps = [int(r) for r in imp.const(node.input[1], "repeats").reshape(-1)]
        if len(reps) != len(shape) or any(r < 1 for r in reps):
            imp.fail(f"repeats {reps} must be one positive value per axis of {list(shape)}")
        out = tuple(n * r for n, r in zip(shape, reps))
    else:
        want = [int(v) for v in imp.const(node.input[1], "shape").reshape(-1)]
        r = max(len(want), len(shape))
        a = (1,) * (r - len(shape)) + tuple(shape)
        b = (1,) * (r - len(want)) + tuple(want)
        if any(p != q and p != 1 and q != 1 for p, q in zip(a, b)):
            imp.fail(f"shape {want} does not broadcast with the input shape {list(shape)}")
        out = tuple(max(p, q) for p, q in zip(a, b))
    lay = imp.layout(node.input[0]) if len(out) == len(shape) else tuple(range(len(shape)))
    x = imp.get(node.input[0], lay)
    y = imp.new_output(node.output[0], lay if len(out) == len(shape) else None, out)
    imp.add("tile", [x], [y])


def _tflite_broadcast_to(imp, op) -> None:
    if imp.const(op.inputs[1]) is None:
        imp.fail(op, "the shape must be constant (TFLM's kernel needs a constant one too)")
    imp.unary(op, "tile")


ONNX = {"Expand": _onnx_tile, "Tile": _onnx_tile}
TFLITE = {"BROADCAST_TO": _tflite_broadcast_to}
