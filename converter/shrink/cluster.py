"""Weight sharing: k-means clustering of each layer's weights into at most N values.

Every conv2d / depthwise_conv2d / fully_connected layer's float weights are replaced by the
nearest of N centroids (1-D k-means, Lloyd iterations from quantile seeds; an exact zero is kept
as a centroid when the layer has zeros, so pruned weights stay pruned). A clustered layer is then
quantized with ONE scale for the whole tensor instead of one per channel, so its int8 weights
take at most N distinct values: the weights can be stored as a palette of N int8 values plus
packed indices (PALETTE encoding, 4 bits per weight for N <= 16). With calibration feeds the
biases are corrected for the expected output shift (bias_correction.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgenn.converter.graph import Graph
from edgenn.converter.shrink.bias_correction import correct_bias, input_means, own_weights, weighted_ops
from edgenn.errors import DataError

MAX_ITERATIONS = 60


@dataclass
class LayerClusters:
    op: str
    weights: int
    distinct_before: int
    clusters: int
    rms_error: float  # RMS weight change relative to the layer's RMS weight


@dataclass
class ClusterReport:
    n_clusters: int
    layers: list[LayerClusters] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"n_clusters": self.n_clusters, "layers": [vars(lay) for lay in self.layers]}


def kmeans_1d(values: np.ndarray, k: int, keep_zero: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Centroids (sorted) and each value's centroid index; exact when there are <= k distinct values."""
    x = np.asarray(values, np.float64).reshape(-1)
    distinct = np.unique(x)
    if distinct.size <= k:
        return distinct, np.searchsorted(distinct, x)
    xs = np.sort(x)
    cent = np.unique(xs[((np.arange(k) + 0.5) / k * xs.size).astype(np.int64)])
    if keep_zero and not np.any(cent == 0):
        cent[np.argmin(np.abs(cent))] = 0.0
        cent = np.unique(cent)
    for _ in range(MAX_ITERATIONS):
        edges = (cent[1:] + cent[:-1]) / 2
        idx = np.searchsorted(edges, xs)
        sums = np.bincount(idx, weights=xs, minlength=cent.size)
        counts = np.bincount(idx, minlength=cent.size)
        new = np.where(counts > 0, sums / np.maximum(counts, 1), cent)
        if keep_zero:
            new[np.argmin(np.abs(new))] = 0.0
        new = np.unique(new)
        if new.size == cent.size and np.allclose(new, cent, rtol=0, atol=1e-12):
            cent = new
            break
        cent = new
    edges = (cent[1:] + cent[:-1]) / 2
    return cent, np.searchsorted(edges, x)


def cluster_weights(g: Graph, n_clusters: int, feeds: dict[str, np.ndarray] | None = None,
                    only: set[str] | None = None) -> ClusterReport:
    """Cluster every float weight layer (or the ``only`` ones) into at most ``n_clusters`` values, in place."""
    if not 2 <= n_clusters <= 256:
        raise DataError(f"--cluster takes a number of values between 2 and 256, got {n_clusters}")
    ops = [op for op in weighted_ops(g) if only is None or op.name in only]
    means = input_means(g, ops, feeds)
    report = ClusterReport(n_clusters)
    for op in ops:
        w = own_weights(g, op)
        if not np.all(np.isfinite(w)):
            raise DataError(f"{op.type} '{op.name}': weights contain NaN or Inf")
        cent, idx = kmeans_1d(w, n_clusters, keep_zero=bool(np.any(w == 0)))
        new = cent[idx].reshape(w.shape)
        rms = float(np.sqrt(np.mean(w.astype(np.float64) ** 2))) or 1.0
        err = float(np.sqrt(np.mean((new - w) ** 2))) / rms
        correct_bias(g, op, w, new, means.get(op.inputs[0]))
        g.tensors[op.inputs[1]].data = new.astype(np.float32)
        op.attrs["weight_scale"] = "per_tensor"  # one scale keeps the int8 values on the palette
        report.layers.append(LayerClusters(op.name, int(w.size), int(np.unique(w).size), int(cent.size), err))
    return report
