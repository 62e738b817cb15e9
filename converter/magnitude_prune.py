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

from edgenn.converter.graph import Graph, Op
from edgenn.converter.weight_ops import correct_bias, own_weights, weight_ops
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
    ops = [op for op in weight_ops(g) if only is None or op.name in only]
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
            dense = op.type == "fully_connected" or (op.type == "conv2d" and int(op.attrs.get("groups", 1)) == 1)
            lay = report.layers[-1]
            if reconstruct and dense and not lay.skipped and lay.zeros_after > lay.zeros_before:
                pre0 = eval_op(op0, g0, values0, apply_act=False)[0]
                w = g.tensors[op.inputs[1]].data
                b = _bias_of(g, op, w.shape[0])
                fitted = _refit_layer(op, g, x, pre0, w, b, seed=i)
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
    """Weights per output channel (depthwise weights are (1, KH, KW, C): one filter per last-axis entry)."""
    if op.type == "depthwise_conv2d":
        return int(w.shape[1] * w.shape[2])
    return int(w.size // w.shape[0])


# ---------------------------------------------------------------------- least-squares refit

REFIT_RIDGES = (1e-4, 1e-3, 1e-2, 1e-1)  # relative to the mean Gram diagonal, chosen on held-out samples
REFIT_MAX_FLOPS = 2e10  # per layer (one solve per output channel); larger layers get bias correction only


def _refit_layer(op: Op, g: Graph, x: np.ndarray, pre0: np.ndarray, w_new: np.ndarray, b_new: np.ndarray,
                 seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Least-squares refit of the kept weights (and bias) of a dense conv2d / fully_connected so that
    its pre-activation output on ``x`` (the pruned graph's input) matches ``pre0`` (the original
    layer's on the original graph). The zeros stay zeros. None when it does not beat the
    bias-corrected magnitude-pruned weights on held-out samples."""
    from edgenn.converter.prune import _design_chunks, _Stats

    co = w_new.shape[0]
    keep = (w_new.reshape(co, -1) != 0)
    d = keep.shape[1] + 1
    k = keep.sum(axis=1) + 1
    if float(np.sum(k.astype(np.float64) ** 3)) / 3 > REFIT_MAX_FLOPS:
        return None
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    held = np.zeros(n, bool)
    held[rng.permutation(n)[: max(1, n // 5)]] = True
    fit = _Stats(np.zeros((d, d)), np.zeros((d, co)))
    val = _Stats(np.zeros((d, d)), np.zeros((d, co)))
    y_all = pre0.reshape(n, -1, co)
    per = y_all.shape[1]
    for s, e, rows in _design_chunks(op, g, x):
        y = y_all[s:e].reshape(-1, co).astype(np.float64)
        h = np.repeat(held[s:e], per)
        fit.add(rows[~h], y[~h])
        val.add(rows[h], y[h])
    prior = np.concatenate([w_new.reshape(co, -1).T, b_new[None]], axis=0).astype(np.float64)
    mask = np.concatenate([keep.T, np.ones((1, co), bool)], axis=0)

    def solve(st: _Stats, rel: float) -> np.ndarray:
        lam = rel * max(float(np.mean(np.diag(st.gram))), 1e-12)
        theta = np.zeros((d, co))
        for c in range(co):
            idx = np.flatnonzero(mask[:, c])
            a = st.gram[np.ix_(idx, idx)] + lam * np.eye(idx.size)
            b = st.cross[idx, c] + lam * prior[idx, c]
            try:
                theta[idx, c] = np.linalg.solve(a, b)
            except np.linalg.LinAlgError:
                theta[idx, c] = np.linalg.lstsq(a, b, rcond=None)[0]
        return theta

    errs = {rel: val.sq_error(solve(fit, rel)) for rel in REFIT_RIDGES}
    rel = min(errs, key=errs.__getitem__)
    if not errs[rel] < val.sq_error(prior):
        return None
    fit.add_stats(val)
    theta = solve(fit, rel)
    return theta[:-1].T.reshape(w_new.shape), theta[-1]
