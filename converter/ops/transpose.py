"""transpose: permutation of the axes of an int8 tensor (TFLM Transpose), rank 1..6.

Float attrs: ``perm`` (output axis d is input axis perm[d]; default: reverse the axes).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.errors import EdgennError, UnsupportedOpError

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
MAX_RANK = 6


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    rank = len(x.shape)
    if not 1 <= rank <= MAX_RANK:
        raise UnsupportedOpError(f"transpose '{op.name}': rank {rank} is not supported (1..{MAX_RANK})")
    perm = op.attrs.get("perm")
    perm = list(range(rank))[::-1] if perm is None else [int(p) for p in perm]
    perm = [p + rank if p < 0 else p for p in perm]
    if sorted(perm) != list(range(rank)):
        raise EdgennError(f"transpose '{op.name}': perm {perm} is not a permutation of the {rank} axes")
    want = tuple(x.shape[p] for p in perm)
    if tuple(y.shape) != want:
        raise EdgennError(f"transpose '{op.name}': output shape {y.shape} should be {want} for perm {perm}")
    op.options = {"perm": np.asarray(perm, np.int32)}


def _perm(op: Op, rank: int) -> list[int]:
    perm = op.attrs.get("perm")
    return list(range(rank))[::-1] if perm is None else [int(p) + rank if int(p) < 0 else int(p) for p in perm]


def keeps_channels(op: Op, g: Graph) -> bool:
    """Channels pass through when the last axis stays last."""
    rank = len(g.tensors[op.inputs[0]].shape)
    return rank > 0 and op.attrs.get("perm") is not None and _perm(op, rank)[-1] == rank - 1


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    perm = _perm(op, xs[0].ndim - 1)
    return [np.transpose(xs[0], (0,) + tuple(1 + p for p in perm))]


def _onnx_transpose(imp, node) -> None:
    """No data moves: the output is the input's stored data under another ONNX layout; image
    operators ask for the layout they need and passes cancel what is left."""
    shape = imp.shape(node.input[0])
    perm = tuple(imp.attr(node, "perm", list(range(len(shape)))[::-1]))
    # output (onnx) = x_onnx.T(perm): x's stored data, re-labelled.
    have = imp.layout(node.input[0])
    imp.relabel(node.output[0], imp.values[node.input[0]].tensor, imp.compose(imp.perm_inverse(perm), have),
                tuple(shape[p] for p in perm))


def _tflite_transpose(imp, op) -> None:
    perm = imp.const(op.inputs[1])
    if perm is None:
        imp.fail(op, "the permutation must be constant")
    imp.unary(op, "transpose", perm=[int(v) for v in np.asarray(perm).reshape(-1)])


ONNX = {"Transpose": _onnx_transpose}
TFLITE = {"TRANSPOSE": _tflite_transpose}
