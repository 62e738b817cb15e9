"""Unstructured magnitude pruning: zero the smallest weights of every layer.

Each conv2d / depthwise_conv2d / fully_connected layer loses the same fraction of its weights, the
ones of smallest magnitude (ties broken by position, so the result is deterministic). Zeros stay
exact zeros through symmetric quantization, and the compressed weight formats (--compress) store
them in about a bit each: that is where the flash saving comes from. The dense kernels run
unchanged, so pruning alone saves no MACs. With calibration feeds, the bias of each layer is
corrected for the expected shift of its outputs (bias_correction.py).

Layers whose filters have fewer than MIN_FAN_IN weights (a first convolution over one or three
channels, a 3x3 depthwise convolution) stay dense: each of their weights carries a large share of
an output, and on the examples pruning them half destroys accuracy (digits 0.98 -> 0.93, DS-CNN
0.98 -> 0.17 at 50 %) while they hold a few percent of the bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgenn.converter.graph import Graph
from edgenn.converter.ops import traits
from edgenn.converter.shrink.bias_correction import correct_bias, own_weights, weighted_ops
from edgenn.converter.shrink.refit import is_dense, refit_kept
from edgenn.errors import DataError


MIN_FAN_IN = 32


@dataclass
class LayerSparsity:
    op: str
    weights: int
    zeros_before: int
    zeros_after: int
    skipped: str = ""  # why the layer was left dense
    refit: bool = False  # kept weights refitted by least squares


@dataclass
class MagnitudePruneReport:
    ratio: float
    layers: list[LayerSparsity] = field(default_factory=list)

    @property
    def sparsity(self) -> float:
        total = sum(lay.weights for lay in self.layers)
        return sum(lay.zeros_after for lay in self.layers) / total if total else 0.0

    def to_dict(self) -> dict:
        return {"ratio": self.ratio, "sparsity": self.sparsity,
                "layers": [vars(lay) for lay in self.layers]}


def prune_unstructured(g: Graph, ratio: float, feeds: dict[str, np.ndarray] | None = None,
                       only: set[str] | None = None, reconstruct: bool = True) -> MagnitudePruneReport:
    """Zero ``ratio`` of each float weight layer's weights (smallest |w| first), in place.

    With calibration ``feeds`` the layers are pruned in graph order, each one seeing the already
    pruned earlier layers: the kept weights of a dense conv2d / fully_connected are refitted by
    least squares so that its pre-activation output matches the original layer's (``reconstruct``;
    kept only where it beats bias correction on held-out samples), the others are bias-corrected.
    ``only`` limits pruning to the named operators (per-layer sensitivity analysis).
    """
    if not 0.0 <= ratio < 1.0:
        raise DataError(f"the unstructured pruning ratio must be in [0, 1), got {ratio}")
    ops = [op for op in weighted_ops(g) if only is None or op.name in only]
    report = MagnitudePruneReport(ratio)
    for op in ops:
        if not np.all(np.isfinite(g.tensors[op.inputs[1]].data)):
            raise DataError(f"{op.type} '{op.name}': weights contain NaN or Inf")
    if feeds is None:
        for op in ops:
            report.layers.append(_prune_layer(g, op, ratio, None))
        return report
    import copy

    from edgenn.converter.float_exec import eval_op

    g0 = copy.deepcopy(g)
    names = {op.name for op in ops}
    last_use = {t: i for i, op in enumerate(g.ops) for t in op.inputs if t}
    values = {k: np.asarray(v, np.float32) for k, v in feeds.items()}
    values0 = dict(values)
    for i, op in enumerate(list(g.ops)):
        op0 = g0.ops[i]
        if op.name in names:
            x = values[op.inputs[0]]
            mean_in = x.reshape(-1, x.shape[-1]).astype(np.float64).mean(axis=0)
            report.layers.append(_prune_layer(g, op, ratio, mean_in))
            dense = is_dense(op, g)
            lay = report.layers[-1]
            if reconstruct and dense and not lay.skipped and lay.zeros_after > lay.zeros_before:
                pre0 = eval_op(op0, g0, values0, apply_act=False)[0]
                w = g.tensors[op.inputs[1]].data
                b = _bias_of(g, op, w.shape[0])
                fitted = refit_kept(op, g, x, pre0, w, b, seed=i)
                if fitted is not None:
                    _set_bias(g, op, fitted[1])
                    g.tensors[op.inputs[1]].data = np.where(w != 0, fitted[0], 0.0).astype(np.float32)
                    lay.refit = True
        outs, outs0 = eval_op(op, g, values), eval_op(op0, g0, values0)
        for name, y, y0 in zip(op.outputs, outs, outs0):
            if last_use.get(name, -1) > i:
                values[name], values0[name] = y, y0
        for t in op.inputs:
            if t and last_use.get(t) == i:
                values.pop(t, None)
                values0.pop(t, None)
    return report


def _prune_layer(g: Graph, op, ratio: float, mean_in: np.ndarray | None) -> LayerSparsity:
    """Magnitude-prune one layer (bias-corrected with the input means, if given)."""
    w = own_weights(g, op)
    flat = w.reshape(-1)
    k = int(round(ratio * flat.size))
    zeros_before = int(np.count_nonzero(flat == 0))
    fan_in = fan_in_of(op, w)
    skipped = f"{fan_in} weights per filter < {MIN_FAN_IN}" if fan_in < MIN_FAN_IN else ""
    if k > 0 and not skipped:
        order = np.argsort(np.abs(flat), kind="stable")
        new = flat.copy()
        new[order[:k]] = 0.0
        new = new.reshape(w.shape)
        correct_bias(g, op, w, new, mean_in)
        g.tensors[op.inputs[1]].data = new.astype(np.float32)
    return LayerSparsity(op.name, int(flat.size), zeros_before,
                         int(np.count_nonzero(g.tensors[op.inputs[1]].data == 0)), skipped)


def _bias_of(g: Graph, op, channels: int) -> np.ndarray:
    if len(op.inputs) > 2 and op.inputs[2]:
        return g.tensors[op.inputs[2]].data.astype(np.float64).reshape(-1)
    return np.zeros(channels)


def _set_bias(g: Graph, op, b: np.ndarray) -> None:
    """Give the op this bias (its own tensor: correct_bias already unshared it or created it if needed)."""
    if len(op.inputs) > 2 and op.inputs[2]:
        g.tensors[op.inputs[2]].data = np.asarray(b, np.float32)
    else:
        t = g.add_const(f"{op.name}_bias", np.asarray(b, np.float32))
        op.inputs = list(op.inputs[:2]) + [t.name]


def fan_in_of(op, w: np.ndarray) -> int:
    """Weights per output channel: the weights over the extent of their per-channel axis (depthwise
    weights are (1, KH, KW, C): one filter per last-axis entry)."""
    return int(w.size // w.shape[traits(op.type).weight_axis])
