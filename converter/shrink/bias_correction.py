"""Shared helpers for the weight transforms (pruning, clustering): which operators carry float
weights (rules with a ``weight_axis``), and bias correction of a weight change.

Bias correction (Nagel et al., "Data-Free Quantization", section 4.2, here with measured means):
changing a layer's weights by dW shifts the expected pre-activation output of channel c by
sum over its taps and input channels of dW * E[input channel]; adding the opposite to the bias
removes that systematic shift, which is most of the damage that pruning or clustering does.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import is_weighted, rule


def weighted_ops(g: Graph) -> list[Op]:
    """Weighted operators whose input 1 is a float weight constant, in graph order."""
    out = []
    for op in g.ops:
        if is_weighted(op.type) and len(op.inputs) > 1:
            w = g.tensors[op.inputs[1]]
            if w.is_const and w.dtype == "float32":
                out.append(op)
    return out


def input_means(g: Graph, ops: Iterable[Op], feeds: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Mean of each input channel (last axis) of each op's activation input, on the float graph."""
    if feeds is None:
        return {}
    from edgenn.converter.float_exec import run_graph

    names = sorted({op.inputs[0] for op in ops})
    acts = run_graph(g, feeds, wanted=names)
    return {n: a.reshape(-1, a.shape[-1]).astype(np.float64).mean(axis=0) for n, a in acts.items()}


def output_shift(op: Op, g: Graph, dw: np.ndarray, mean_in: np.ndarray) -> np.ndarray:
    """Expected change of each output channel's pre-activation when the weights change by ``dw``
    (the rule's ``mean_output``).

    Taps that fall into the padding see zeros rather than the mean; the correction ignores that
    border effect (it would depend on the output position).
    """
    return rule(op.type).mean_output(op, np.asarray(dw, np.float64), mean_in)


def correct_bias(g: Graph, op: Op, w_old: np.ndarray, w_new: np.ndarray, mean_in: np.ndarray | None) -> float:
    """Fold the expected output shift of ``w_new - w_old`` into the op's bias (adding a bias when
    the op has none); returns the largest correction applied (0 without means)."""
    if mean_in is None:
        return 0.0
    shift = output_shift(op, g, w_new.astype(np.float64) - w_old.astype(np.float64), mean_in)
    if not np.any(shift):
        return 0.0
    if len(op.inputs) > 2 and op.inputs[2]:
        b = g.tensors[op.inputs[2]]
        if b.dtype != "float32":
            return 0.0
        new_b = b.data.astype(np.float64) - shift
        if sum(name == b.name for o in g.ops for name in o.inputs) > 1:  # shared bias: give this op its own
            b = g.add_const(f"{op.name}_bias", new_b.astype(np.float32))
            op.inputs[2] = b.name
        else:
            b.data = new_b.astype(np.float32)
    else:
        b = g.add_const(f"{op.name}_bias", (-shift).astype(np.float32))
        op.inputs = list(op.inputs[:2]) + [b.name]
    return float(np.abs(shift).max())


def own_weights(g: Graph, op: Op) -> np.ndarray:
    """The op's float weights, copied to a tensor of its own if another op shares them."""
    w = g.tensors[op.inputs[1]]
    if sum(name == w.name for o in g.ops for name in o.inputs) > 1:
        w = g.add_const(f"{op.name}_weights", w.data.copy())
        op.inputs[1] = w.name
    return w.data
