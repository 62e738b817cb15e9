"""Least-squares refits of a layer's weights: after pruning changed a dense layer (conv2d with
groups 1, fully_connected) or its input, find the weights and bias whose pre-activation output on
the calibration data best matches the original layer's (ridge-regularized towards a prior, the
ridge chosen on held-out samples).

The layer's input is turned into design rows by its rule's ``design_rows`` (im2col for a
convolution), with a column of ones for the bias, so output = rows @ theta.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import rule, traits

CHUNK_VALUES = 2_000_000  # float64 values of one design-matrix chunk
MASKED_RIDGES = (1e-4, 1e-3, 1e-2, 1e-1)  # relative to the mean Gram diagonal, chosen on held-out samples
MASKED_MAX_FLOPS = 2e10  # per layer (one solve per output channel); larger layers are not refitted


def is_dense(op: Op, g: Graph) -> bool:
    """A dense layer: its rule says ``channels == "dense"`` and its constant float weights have one row
    per output channel and one column (per tap) per input channel (conv2d with groups 1,
    fully_connected), with no bias or one value per output channel."""
    if traits(op.type).channels != "dense" or len(op.inputs) < 2 or not op.inputs[1]:
        return False
    w = g.tensors[op.inputs[1]].data
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if w is None or x.is_const or not x.shape or not y.shape:
        return False
    b = g.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] else None
    bias_ok = b is None or (b.data is not None and b.size == w.shape[0])
    return w.shape[0] == y.shape[-1] and w.shape[-1] == x.shape[-1] and bias_ok


def design_chunks(op: Op, g: Graph, x: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """(first sample, end sample, rows) of the layer's input ``x`` (N, *input shape) as a design
    matrix with a bias column, a few million values at a time."""
    n = x.shape[0]
    design_rows = rule(op.type).design_rows
    first = design_rows(op, g, x[:1])
    per, d = first.shape[0], first.shape[1] + 1
    step = max(1, CHUNK_VALUES // max(1, per * d))
    for s in range(0, n, step):
        e = min(n, s + step)
        rows = first if (s, e) == (0, 1) else design_rows(op, g, x[s:e])
        yield s, e, np.concatenate([rows.astype(np.float64), np.ones((rows.shape[0], 1))], axis=1)


@dataclass
class Stats:
    """Sufficient statistics of a least-squares problem |X theta - Y|^2."""

    gram: np.ndarray
    cross: np.ndarray
    yy: float = 0.0

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        self.gram += x.T @ x
        self.cross += x.T @ y
        self.yy += float((y * y).sum())

    def add_stats(self, other: "Stats") -> None:
        self.gram += other.gram
        self.cross += other.cross
        self.yy += other.yy

    def sq_error(self, theta: np.ndarray) -> float:
        return float((theta * (self.gram @ theta)).sum() - 2.0 * (theta * self.cross).sum() + self.yy)


def ridge(st: Stats, rel: float, prior: np.ndarray) -> np.ndarray:
    """argmin |X t - Y|^2 + lam |t - prior|^2, lam relative to the mean diagonal of X'X."""
    lam = rel * max(float(np.mean(np.diag(st.gram))), 1e-12)
    a = st.gram + lam * np.eye(st.gram.shape[0])
    b = st.cross + lam * prior
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def refit_kept(op: Op, g: Graph, x: np.ndarray, pre0: np.ndarray, w_new: np.ndarray, b_new: np.ndarray,
               seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Least-squares refit of the kept (nonzero) weights and the bias of a dense layer so that its
    pre-activation output on ``x`` (the pruned graph's input) matches ``pre0`` (the original
    layer's on the original graph). The zeros stay zeros. None when it does not beat the prior
    (the pruned, bias-corrected weights) on held-out samples, or the layer is too large."""
    co = w_new.shape[0]
    keep = (w_new.reshape(co, -1) != 0)
    d = keep.shape[1] + 1
    k = keep.sum(axis=1) + 1
    if float(np.sum(k.astype(np.float64) ** 3)) / 3 > MASKED_MAX_FLOPS:
        return None
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    held = np.zeros(n, bool)
    held[rng.permutation(n)[: max(1, n // 5)]] = True
    fit = Stats(np.zeros((d, d)), np.zeros((d, co)))
    val = Stats(np.zeros((d, d)), np.zeros((d, co)))
    y_all = pre0.reshape(n, -1, co)
    per = y_all.shape[1]
    for s, e, rows in design_chunks(op, g, x):
        y = y_all[s:e].reshape(-1, co).astype(np.float64)
        h = np.repeat(held[s:e], per)
        fit.add(rows[~h], y[~h])
        val.add(rows[h], y[h])
    prior = np.concatenate([w_new.reshape(co, -1).T, b_new[None]], axis=0).astype(np.float64)
    mask = np.concatenate([keep.T, np.ones((1, co), bool)], axis=0)

    def solve(st: Stats, rel: float) -> np.ndarray:
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

    errs = {rel: val.sq_error(solve(fit, rel)) for rel in MASKED_RIDGES}
    rel = min(errs, key=errs.__getitem__)
    if not errs[rel] < val.sq_error(prior):
        return None
    fit.add_stats(val)
    theta = solve(fit, rel)
    return theta[:-1].T.reshape(w_new.shape), theta[-1]
