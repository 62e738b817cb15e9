"""Unstructured magnitude pruning: zero the smallest weights of every layer.

Each conv2d / depthwise_conv2d / fully_connected layer loses the same fraction of its weights, the
ones of smallest magnitude (ties broken by position, so the result is deterministic). Zeros stay
exact zeros through symmetric quantization, and the compressed weight formats (--compress) store
them in about a bit each: that is where the flash saving comes from. The dense kernels run
unchanged, so pruning alone saves no MACs. With calibration feeds, the bias of each layer is
corrected for the expected shift of its outputs (converter/weight_ops.py).

Layers whose filters have fewer than MIN_FAN_IN weights (a first convolution over one or three
channels, a 3x3 depthwise convolution) stay dense: each of their weights carries a large share of
an output, and on the examples pruning them half destroys accuracy (digits 0.98 -> 0.93, DS-CNN
0.98 -> 0.17 at 50 %) while they hold a few percent of the bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgenn.converter.graph import Graph
from edgenn.converter.weight_ops import correct_bias, input_means, own_weights, weight_ops
from edgenn.errors import DataError


MIN_FAN_IN = 32


@dataclass
class LayerSparsity:
    op: str
    weights: int
    zeros_before: int
    zeros_after: int
    skipped: str = ""  # why the layer was left dense


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
                       only: set[str] | None = None) -> MagnitudePruneReport:
    """Zero ``ratio`` of each float weight layer's weights (smallest |w| first), in place.

    ``only`` limits pruning to the named operators (per-layer sensitivity analysis).
    """
    if not 0.0 <= ratio < 1.0:
        raise DataError(f"the unstructured pruning ratio must be in [0, 1), got {ratio}")
    ops = [op for op in weight_ops(g) if only is None or op.name in only]
    means = input_means(g, ops, feeds)
    report = MagnitudePruneReport(ratio)
    for op in ops:
        w = own_weights(g, op)
        if not np.all(np.isfinite(w)):
            raise DataError(f"{op.type} '{op.name}': weights contain NaN or Inf")
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
            correct_bias(g, op, w, new, means.get(op.inputs[0]))
            g.tensors[op.inputs[1]].data = new.astype(np.float32)
        report.layers.append(LayerSparsity(op.name, int(flat.size), zeros_before,
                                           int(np.count_nonzero(g.tensors[op.inputs[1]].data == 0)), skipped))
    return report


def fan_in_of(op, w: np.ndarray) -> int:
    """Weights per output channel (depthwise weights are (1, KH, KW, C): one filter per last-axis entry)."""
    if op.type == "depthwise_conv2d":
        return int(w.shape[1] * w.shape[2])
    return int(w.size // w.shape[0])
