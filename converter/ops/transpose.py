"""transpose: permutation of the axes of an int8 tensor (TFLM Transpose), rank 1..6.

Float attrs: ``perm`` (output axis d is input axis perm[d]; default: reverse the axes).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.errors import EdgennError, UnsupportedOpError

OUTPUT_QUANT = "same_as_input"
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
