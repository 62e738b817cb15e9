"""Structured pruning of the float graph: remove whole output channels of conv2d / fully_connected.

Runs on the simplified float graph (NHWC, BatchNorm folded, activations fused), before
calibration. Three steps:

1. Channel analysis. Every (tensor, channel of its LAST axis) is a node; operators tie nodes
   that must go together (union-find): per-channel operators pass channels through, a residual
   add ties all its operands, a concat on the last axis offsets them, a reshape whose last
   dimension is a multiple of the input's (a flatten, moved size-1 axes) maps feature f to
   channel f % C. Operators that mix channels in other ways (softmax, grouped convolutions,
   a transpose moving the last axis, graph inputs and outputs, unknown operators) block their
   channels. A class is prunable when it holds a channel made by a producer (conv2d with
   groups == 1, fully_connected: one weight row per channel) and no blocked node.
2. Selection. Classes with the same set of producers form a group; each group loses
   round(ratio * n) of its classes (at least one stays), the lowest by saliency.
3. Rewrite and recovery. Producer rows, consumer columns, depthwise weights, biases and
   per-channel constants are sliced and activation shapes updated. With calibration feeds,
   each conv2d / fully_connected whose input lost channels gets its weights re-fitted by least
   squares to the original graph's pre-activation output (or only a bias correction, whichever
   lowers the error), layer by layer in graph order.
"""
from __future__ import annotations

import copy
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgenn.converter.float_exec import clamp, eval_op, fused_act, run_graph
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import call, is_weighted, rule, traits
from edgenn.converter.shrink.refit import Stats, design_chunks, is_dense, ridge
from edgenn.errors import DataError
from edgenn.format.operators import OPERATORS

SALIENCIES = ("l1", "l2", "activation")
LS_MAX_ROWS = 20000  # rows of the least-squares problem (subsampled above this)
LS_MAX_DIM = 2560  # unknowns per output channel (3x3x256 + bias fits); larger layers get bias correction only
LS_RIDGES = (1e-6, 1e-4, 1e-3, 1e-2, 1e-1)  # relative to the mean diagonal, chosen on held-out samples
EVAL_BATCH = 256

Key = Any  # a tensor name, or ("const", op index, input index) for a constant operand


# ---------------------------------------------------------------------- report

@dataclass
class Recovery:
    """How one consumer was repaired, with its relative pre-activation error on the feeds."""

    method: str  # "least_squares", "bias_correction" or "none"
    error_before: float | None  # after plain removal (None without feeds)
    error_after: float | None


@dataclass
class PruneReport:
    """What ``prune_structured`` did: channels per producer, recovery per consumer, MACs and weights."""

    ratio: float
    saliency: str
    channels: dict[str, tuple[int, int]] = field(default_factory=dict)  # producer -> (before, after)
    removed: dict[str, list[int]] = field(default_factory=dict)  # producer -> removed channel indices
    recovery: dict[str, Recovery] = field(default_factory=dict)  # consumer -> recovery
    macs_before: int = 0
    macs_after: int = 0
    weight_bytes_before: int = 0  # float32 constants read by operators
    weight_bytes_after: int = 0

    def summary(self) -> str:
        """A few lines for humans."""
        def pct(a: int, b: int) -> str:
            return f"{100.0 * (b - a) / a:+.1f}%" if a else "n/a"

        lines = [f"structured pruning {self.ratio:.0%} ({self.saliency} saliency): "
                 f"MACs {self.macs_before:,} -> {self.macs_after:,} ({pct(self.macs_before, self.macs_after)}), "
                 f"float weights {self.weight_bytes_before:,} -> {self.weight_bytes_after:,} bytes "
                 f"({pct(self.weight_bytes_before, self.weight_bytes_after)})"]
        width = max((len(n) for n in list(self.channels) + list(self.recovery)), default=0)
        for name, (before, after) in self.channels.items():
            lines.append(f"  {name:<{width}}  channels {before} -> {after}")
        if self.recovery:
            lines.append("recovery (relative pre-activation error on the calibration data):")
        for name, r in self.recovery.items():
            err = "" if r.error_before is None else f"  error {r.error_before:.4f} -> {r.error_after:.4f}"
            lines.append(f"  {name:<{width}}  {r.method}{err}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "ratio": self.ratio, "saliency": self.saliency,
            "channels": {k: {"before": b, "after": a} for k, (b, a) in self.channels.items()},
            "removed": {k: list(v) for k, v in self.removed.items()},
            "recovery": {k: {"method": r.method, "error_before": r.error_before, "error_after": r.error_after}
                         for k, r in self.recovery.items()},
            "macs": {"before": self.macs_before, "after": self.macs_after},
            "weight_bytes": {"before": self.weight_bytes_before, "after": self.weight_bytes_after},
        }


# ---------------------------------------------------------------------- channel analysis

@dataclass
class ChannelClass:
    """Channels that can only be removed together."""

    members: list[tuple[Key, int]]
    producers: list[tuple[str, int]]  # (producer op name, output channel)
    blocked: bool

    @property
    def prunable(self) -> bool:
        return bool(self.producers) and not self.blocked


def _last(shape: tuple[int, ...]) -> int:
    return int(shape[-1]) if len(shape) else 0


def _axis(a: int, rank: int) -> int:
    return int(a) + rank if int(a) < 0 else int(a)


class _Channels:
    """Union-find over (key, channel) nodes."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.start: dict[Key, int] = {}
        self.count: dict[Key, int] = {}
        self.blocked: set[int] = set()

    def register(self, key: Key, count: int) -> None:
        if key not in self.start:
            self.start[key] = len(self.parent)
            self.count[key] = count
            self.parent.extend(range(len(self.parent), len(self.parent) + count))

    def node(self, key: Key, c: int) -> int:
        return self.start[key] + c

    def find(self, a: int) -> int:
        p = self.parent
        while p[a] != a:
            p[a] = p[p[a]]
            a = p[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def tie(self, a: Key, b: Key) -> None:
        if self.count[a] != self.count[b]:
            self.block(a)
            self.block(b)
            return
        for c in range(self.count[a]):
            self.union(self.node(a, c), self.node(b, c))

    def block(self, key: Key) -> None:
        self.blocked.update(range(self.start[key], self.start[key] + self.count[key]))


class _Analysis:
    """The channel classes of a graph and where each producer's channels went."""

    def __init__(self, g: Graph):
        self.g = g
        self.ch = _Channels()
        self.producer_of: dict[str, str] = {}  # output tensor -> producer op name
        self.dense = {op.name for op in g.ops if is_dense(op, g)}
        for name, t in g.tensors.items():
            if not t.is_const:
                self.ch.register(name, _last(t.shape))
        for i, op in enumerate(g.ops):
            self._link(i, op)
        for name in g.input_names + g.output_names:
            self.ch.block(name)
        self.classes = self._classes()

    def _key(self, i: int, k: int, op: Op) -> Key | None:
        name = op.inputs[k] if k < len(op.inputs) else ""
        if not name:
            return None
        t = self.g.tensors[name]
        if not t.is_const:
            return name
        key = ("const", i, k)
        self.ch.register(key, _last(t.shape))
        return key

    def _block_op(self, i: int, op: Op) -> None:
        for k in range(len(op.inputs)):
            key = self._key(i, k, op)
            if key is not None and not isinstance(key, tuple):
                self.ch.block(key)
        for o in op.outputs:
            self.ch.block(o)

    def _link(self, i: int, op: Op) -> None:
        """Tie or block the channels of one operator as its rule's ``channels`` trait says."""
        g, ch = self.g, self.ch
        kind = traits(op.type).channels if op.type in OPERATORS else "blocks"
        y = op.outputs[0] if op.outputs else None
        if kind == "dense":
            if op.name in self.dense:
                self.producer_of[y] = op.name  # input channels are consumed: nothing to tie
            else:
                self._block_op(i, op)
            return
        x = self._key(i, 0, op) if op.inputs else None
        if x is None or len(op.outputs) != 1:
            self._block_op(i, op)
            return
        xs, ys = (g.tensors[op.inputs[0]].shape, g.tensors[y].shape)
        keeps = getattr(rule(op.type), "keeps_channels", None) if kind == "elementwise" else None
        if kind == "elementwise" and (keeps is None or keeps(op, g)):
            c = _last(ys)
            for k in range(len(op.inputs)):
                key = self._key(i, k, op)
                if key is None:
                    continue
                n = ch.count[key]
                if n == c:
                    ch.tie(key, y)
                elif n != 1:  # size-1 operands broadcast: they lose nothing
                    self._block_op(i, op)
                    return
        elif kind == "concat":
            rank = len(ys)
            axis = _axis(op.attrs.get("axis", 0), rank)
            keys = [self._key(i, k, op) for k in range(len(op.inputs))]
            if axis == rank - 1:
                off = 0
                for key in keys:
                    for c in range(ch.count[key]):
                        ch.union(ch.node(key, c), ch.node(y, off + c))
                    off += ch.count[key]
                if off != _last(ys):
                    self._block_op(i, op)
            else:
                for key in keys:
                    ch.tie(key, y)
        elif kind == "reshape":
            cin, cout = _last(xs), _last(ys)
            # Output rows start at a multiple of C when its last dim is: feature f holds channel f % C.
            if cin and cout and cout % cin == 0 and not isinstance(x, tuple):
                for f in range(cout):
                    ch.union(ch.node(x, f % cin), ch.node(y, f))
            else:
                self._block_op(i, op)
        else:
            self._block_op(i, op)

    def _classes(self) -> list[ChannelClass]:
        ch = self.ch
        members: dict[int, list[tuple[Key, int]]] = defaultdict(list)
        for key, start in ch.start.items():
            for c in range(ch.count[key]):
                members[ch.find(start + c)].append((key, c))
        blocked_roots = {ch.find(n) for n in ch.blocked}
        out = []
        for root in sorted(members):
            mem = members[root]
            prods = [(self.producer_of[k], c) for k, c in mem if isinstance(k, str) and k in self.producer_of]
            out.append(ChannelClass(mem, prods, root in blocked_roots))
        return out

    def groups(self) -> dict[tuple[str, ...], list[ChannelClass]]:
        """Prunable classes by their producer ops (in graph order)."""
        order = {op.name: i for i, op in enumerate(self.g.ops)}
        res: dict[tuple[str, ...], list[ChannelClass]] = defaultdict(list)
        for cl in self.classes:
            if cl.prunable:
                res[tuple(sorted({p for p, _ in cl.producers}, key=order.__getitem__))].append(cl)
        return dict(res)


def channel_classes(g: Graph) -> list[ChannelClass]:
    """All channel classes of ``g`` (prunable or not), ordered by their first node."""
    return _Analysis(g).classes


def prunable_layers(g: Graph) -> list[str]:
    """Producer ops (graph order) with at least one channel that pruning could remove: in a
    prunable class of a group that has more than one class."""
    names = {p for key, cls in _Analysis(g).groups().items() if len(cls) > 1 for p in key}
    return [op.name for op in g.ops if op.name in names]


# ---------------------------------------------------------------------- saliency

def _weight_norms(g: Graph, op: Op, kind: str) -> np.ndarray:
    w = g.tensors[op.inputs[1]].data.astype(np.float64)
    rows = np.abs(w.reshape(w.shape[0], -1))
    return rows.sum(axis=1) if kind == "l1" else np.sqrt((rows * rows).sum(axis=1))


def _activation_means(g: Graph, feeds: dict[str, np.ndarray], tensors: set[str]) -> dict[str, np.ndarray]:
    sums: dict[str, np.ndarray] = {}
    counts: Counter = Counter()

    def observe(name: str, v: np.ndarray) -> None:
        if name in tensors:
            flat = np.abs(v.astype(np.float64)).reshape(-1, v.shape[-1])
            sums[name] = sums.get(name, 0.0) + flat.sum(axis=0)
            counts[name] += flat.shape[0]

    run_graph(g, feeds, wanted=[], batch=EVAL_BATCH, observe=observe)
    return {k: sums[k] / max(counts[k], 1) for k in sums}


def _normalized(v: np.ndarray) -> np.ndarray:
    m = float(v.mean()) if v.size else 0.0
    return v / m if m > 0 else np.zeros_like(v)


def _saliencies(g: Graph, producers: set[str], kind: str,
                feeds: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Per producer op: its channels' saliency divided by the producer's mean (tied producers weigh equally)."""
    ops = {op.name: op for op in g.ops if op.name in producers}
    if kind == "activation":
        means = _activation_means(g, feeds, {op.outputs[0] for op in ops.values()})  # type: ignore[arg-type]
        return {name: _normalized(means[op.outputs[0]]) for name, op in ops.items()}
    return {name: _normalized(_weight_norms(g, op, kind)) for name, op in ops.items()}


# ---------------------------------------------------------------------- rewriting

def _keep(count: int, removed: np.ndarray | None) -> np.ndarray:
    if removed is None or not len(removed):
        return np.arange(count)
    return np.setdiff1d(np.arange(count), removed)


class _ConstWriter:
    """Replaces operator constants: in place when only that operand reads the tensor."""

    def __init__(self, g: Graph):
        self.g = g
        self.refs = Counter(n for op in g.ops for n in op.inputs if n)
        self.replaced: set[str] = set()

    def set(self, op: Op, k: int, data: np.ndarray) -> None:
        g = self.g
        data = np.ascontiguousarray(data, dtype=np.float32)
        if k < len(op.inputs) and op.inputs[k]:
            name = op.inputs[k]
            t = g.tensors[name]
            if self.refs[name] == 1:
                t.data, t.shape, t.dtype = data, tuple(data.shape), "float32"
                t.origin = t.origin_perm = None
                return
            self.refs[name] -= 1
            self.replaced.add(name)
            base = name
        else:
            base = f"{op.name}_bias"
        new = g.add_const(base, data)
        self.refs[new.name] += 1
        while len(op.inputs) <= k:
            op.inputs.append("")
        op.inputs[k] = new.name

    def drop_unused(self) -> None:
        used = {n for op in self.g.ops for n in op.inputs if n}
        for name in self.replaced - used:
            del self.g.tensors[name]


def _rewrite(g: Graph, an: _Analysis, removed: dict[Key, np.ndarray]) -> None:
    """Slice weights, biases and constants and shrink activation shapes for the removed nodes."""
    cw = _ConstWriter(g)
    for i, op in enumerate(g.ops):
        if op.name in an.dense:
            ri, ro = removed.get(op.inputs[0]), removed.get(op.outputs[0])
            if ri is not None or ro is not None:
                w = g.tensors[op.inputs[1]].data
                ko, ki = _keep(w.shape[0], ro), _keep(w.shape[-1], ri)
                cw.set(op, 1, w[ko][..., ki])
                if len(op.inputs) > 2 and op.inputs[2] and ro is not None:
                    cw.set(op, 2, g.tensors[op.inputs[2]].data.reshape(-1)[ko])
        else:
            for k, name in enumerate(op.inputs):
                r = removed.get(("const", i, k))
                if r is not None:
                    d = g.tensors[name].data
                    cw.set(op, k, d[..., _keep(d.shape[-1], r)])
    for key, r in removed.items():
        if isinstance(key, str):
            t = g.tensors[key]
            t.shape = t.shape[:-1] + (t.shape[-1] - len(r),)
            t.origin = t.origin_perm = None  # no longer equal to a source-model value
    cw.drop_unused()


def check_graph(g: Graph) -> None:
    """Internal consistency of the graph after a rewrite; AssertionError if broken.

    Every weighted operator's weights and bias must still have one row per output channel, and
    every operator must still compute its output's shape from its inputs' (its float execution on
    one zero sample).
    """
    def fail(op: Op, why: str) -> None:
        raise AssertionError(f"structured pruning left {op.type} '{op.name}' inconsistent: {why}")

    values = {name: np.zeros((1,) + tuple(g.tensors[name].shape), np.float32) for name in g.input_names}
    for op in g.ops:
        ys = g.tensors[op.outputs[0]].shape
        if is_weighted(op.type):
            w = g.tensors[op.inputs[1]].shape
            b = g.tensors[op.inputs[2]].size if len(op.inputs) > 2 and op.inputs[2] else ys[-1]
            if w[traits(op.type).weight_axis] != ys[-1] or b != ys[-1]:
                fail(op, f"weights {w} and a bias of {b} for an output {ys}")
        try:
            outs = eval_op(op, g, values)
        except Exception as e:  # noqa: BLE001 - any failure is an inconsistency to report
            fail(op, f"{type(e).__name__}: {e}")
        values.update(zip(op.outputs, outs))


# ---------------------------------------------------------------------- recovery

def _recover_one(op: Op, g: Graph, op0: Op, g0: Graph, x: np.ndarray, x0: np.ndarray, pre0: np.ndarray,
                 removed_in: np.ndarray, keep_out: np.ndarray, reconstruct: bool, seed: int) -> Recovery:
    """Re-fit one consumer whose input lost channels; writes the chosen weights into ``g``."""
    w0 = g0.tensors[op0.inputs[1]].data.astype(np.float64)
    b0 = (g0.tensors[op0.inputs[2]].data.astype(np.float64).reshape(-1) if len(op0.inputs) > 2 and op0.inputs[2]
          else np.zeros(w0.shape[0]))
    keep_in = _keep(w0.shape[-1], removed_in)
    w_plain = w0[keep_out][..., keep_in]
    # Bias correction: the removed inputs' mean contribution (original graph), over all taps.
    mean_in = x0.reshape(-1, x0.shape[-1]).astype(np.float64).mean(axis=0)
    lost = w0[keep_out][..., removed_in].reshape(len(keep_out), -1, len(removed_in)).sum(axis=1)
    b_bc = b0[keep_out] + lost @ mean_in[removed_in]
    co = len(keep_out)
    theta_plain = np.concatenate([w_plain.reshape(co, -1).T, b0[keep_out][None]], axis=0)
    theta_bc = theta_plain.copy()
    theta_bc[-1] = b_bc
    d = theta_plain.shape[0]

    y_all = pre0[..., keep_out].reshape(x.shape[0], -1, co)
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    try_ls = reconstruct and d <= LS_MAX_DIM
    per = y_all.shape[1]
    total = n * per
    chosen = np.ones(total, bool)
    if total > LS_MAX_ROWS:
        chosen[:] = False
        chosen[rng.choice(total, LS_MAX_ROWS, replace=False)] = True
    held_out = np.zeros(n, bool)
    if n >= 10:  # keep a fifth of the samples aside to choose the ridge and to reject overfitting
        held_out[rng.permutation(n)[: n // 5]] = True
    size = (d, d) if try_ls else (0, 0)  # no Gram matrices for layers too wide for least squares
    fit = Stats(np.zeros(size), np.zeros((size[0], co)))
    val = Stats(np.zeros(size), np.zeros((size[0], co)))
    sq = {"none": 0.0, "bias_correction": 0.0}
    y_norm = 0.0
    for s, e, rows in design_chunks(op, g, x):
        y = y_all[s:e].reshape(-1, co).astype(np.float64)
        y_norm += float((y * y).sum())
        sq["none"] += float(((rows @ theta_plain - y) ** 2).sum())
        sq["bias_correction"] += float(((rows @ theta_bc - y) ** 2).sum())
        if try_ls:
            m = chosen[s * per:e * per]
            hv = np.repeat(held_out[s:e], per) & m
            fit.add(rows[m & ~hv], y[m & ~hv])
            val.add(rows[hv], y[hv])
    thetas = {"none": theta_plain, "bias_correction": theta_bc}
    if try_ls:
        if held_out.any():
            cand = {rel: val.sq_error(ridge(fit, rel, theta_bc)) for rel in LS_RIDGES}
            rel = min(cand, key=cand.__getitem__)
            useful = cand[rel] < val.sq_error(theta_bc)
        else:
            rel, useful = 1e-4, True
        if useful:
            fit.add_stats(val)  # refit on all samples
            theta_ls = ridge(fit, rel, theta_bc)
            sq["least_squares"] = sum(float(((rows @ theta_ls - y_all[s:e].reshape(-1, co)) ** 2).sum())
                                      for s, e, rows in design_chunks(op, g, x))
            thetas["least_squares"] = theta_ls
    method = "none"
    if reconstruct:
        if sq["bias_correction"] < sq["none"]:
            method = "bias_correction"
        if "least_squares" in sq and sq["least_squares"] < sq[method]:
            method = "least_squares"
    if method != "none":
        theta = thetas[method]
        cw = _ConstWriter(g)
        cw.set(op, 1, theta[:-1].T.reshape(w_plain.shape))
        cw.set(op, 2, theta[-1])
        cw.drop_unused()
    denom = max(y_norm, 1e-30)
    return Recovery(method, float(np.sqrt(sq["none"] / denom)), float(np.sqrt(sq[method] / denom)))


def _eval(op: Op, g: Graph, values: dict[str, np.ndarray], apply_act: bool = True) -> list[np.ndarray]:
    n = next(v.shape[0] for k, v in values.items())
    parts: list[list[np.ndarray]] = []
    for s in range(0, n, EVAL_BATCH):
        sub = {t: values[t][s:s + EVAL_BATCH] for t in op.inputs if t and t in values}
        parts.append(eval_op(op, g, sub, apply_act=apply_act))
    return [p[0] if len(parts) == 1 else np.concatenate(p) for p in zip(*parts)]


def _recover(g: Graph, g0: Graph, feeds: dict[str, np.ndarray], an: _Analysis, removed: dict[Key, np.ndarray],
             reconstruct: bool) -> dict[str, Recovery]:
    """Walk both graphs in step; re-fit each dense consumer whose input lost channels, in order, so
    later layers see the already repaired earlier ones."""
    last_use: dict[str, int] = {}
    for i, op in enumerate(g.ops):
        for t in op.inputs:
            if t:
                last_use[t] = i
    values = {k: np.asarray(v, np.float32) for k, v in feeds.items()}
    values0 = dict(values)
    res: dict[str, Recovery] = {}
    for i, op in enumerate(g.ops):
        op0 = g0.ops[i]
        if op0.name != op.name:
            raise AssertionError("structured pruning changed the operator order")
        if op.name in an.dense and op.inputs[0] in removed:
            pre0 = _eval(op0, g0, values0, apply_act=False)[0]
            keep_out = _keep(pre0.shape[-1], removed.get(op.outputs[0]))
            res[op.name] = _recover_one(op, g, op0, g0, values[op.inputs[0]], values0[op0.inputs[0]], pre0,
                                        removed[op.inputs[0]], keep_out, reconstruct, seed=i)
            outs0 = [clamp(pre0, fused_act(op0))]
        else:
            outs0 = _eval(op0, g0, values0)
        outs = _eval(op, g, values)
        for name, y, y0 in zip(op.outputs, outs, outs0):
            if last_use.get(name, -1) > i:
                values[name], values0[name] = y, y0
        for t in op.inputs:
            if t and last_use.get(t) == i:
                values.pop(t, None)
                values0.pop(t, None)
    return res


# ---------------------------------------------------------------------- entry point

def graph_macs(g: Graph) -> int:
    """Multiply-accumulates of one inference (each operator rule's ``macs``)."""
    return sum(int(call(op, g, "macs", 0) or 0) for op in g.ops if op.type in OPERATORS)


def weight_bytes(g: Graph) -> int:
    """Bytes of the constants the operators read, in their current dtype."""
    names = {n for op in g.ops for n in op.inputs if n and g.tensors[n].is_const}
    return sum(g.tensors[n].nbytes for n in names)


def _check_inputs(g: Graph, ratio: float, feeds: dict[str, np.ndarray] | None, saliency: str,
                  only: set[str] | None) -> float:
    try:
        r = float(ratio)
    except (TypeError, ValueError):
        raise DataError(f"the pruning ratio must be a number in [0, 1), got {ratio!r}") from None
    if not 0.0 <= r < 1.0:
        raise DataError(f"the pruning ratio must be in [0, 1), got {ratio}")
    if saliency not in SALIENCIES:
        raise DataError(f"unknown pruning saliency {saliency!r}; choose from {', '.join(SALIENCIES)}")
    if saliency == "activation" and feeds is None:
        raise DataError("activation saliency needs calibration data (feeds); use 'l1' or 'l2' without data")
    if only is not None:
        names = {op.name for op in g.ops}
        unknown = sorted(set(only) - names)
        if unknown:
            raise DataError(f"pruning: no layer named {unknown[0]!r} in the model")
    if any(t.quant is not None or t.dtype == "int8" for t in g.tensors.values()):
        raise DataError("structured pruning works on float models before quantization; "
                        "this model is already quantized (prune the float ONNX model instead)")
    for op in g.ops:
        for name in op.inputs:
            t = g.tensors.get(name) if name else None
            if t is not None and t.data is not None and t.data.dtype.kind == "f" and not np.all(np.isfinite(t.data)):
                raise DataError(f"constant {name!r} of {op.type} '{op.name}' contains NaN or Inf")
    if feeds is not None:
        if set(feeds) != set(g.input_names):
            raise DataError(f"pruning feeds must hold exactly the graph inputs {g.input_names}, got {sorted(feeds)}")
        ns = set()
        for name in g.input_names:
            a = np.asarray(feeds[name])
            if a.ndim != len(g.tensors[name].shape) + 1 or tuple(a.shape[1:]) != tuple(g.tensors[name].shape):
                raise DataError(f"pruning feed {name!r} has shape {a.shape}, expected (N, "
                                f"{', '.join(map(str, g.tensors[name].shape))})")
            if a.shape[0] == 0:
                raise DataError(f"pruning feed {name!r} has no samples")
            if not np.all(np.isfinite(a)):
                raise DataError(f"pruning feed {name!r} contains NaN or Inf")
            ns.add(a.shape[0])
        if len(ns) > 1:
            raise DataError(f"all pruning feeds need the same number of samples, got {sorted(ns)}")
    return r


def prune_structured(g: Graph, ratio: float, feeds: dict[str, np.ndarray] | None = None, saliency: str = "l1",
                     reconstruct: bool = True, only: set[str] | None = None) -> PruneReport:
    """Remove ``ratio`` of the prunable output channels of every channel group of ``g`` (in place).

    ``feeds``: calibration inputs as (N, *tensor.shape) per graph input tensor (``float_exec.graph_feeds``),
    needed for ``saliency="activation"`` and for the recovery of the layers that read pruned channels.
    ``only``: prune only groups whose producers include one of these op names.
    """
    r = _check_inputs(g, ratio, feeds, saliency, only)
    rep = PruneReport(ratio=r, saliency=saliency, macs_before=graph_macs(g), weight_bytes_before=weight_bytes(g))
    an = _Analysis(g)
    groups = {k: v for k, v in an.groups().items() if only is None or set(k) & set(only)}
    before = {op.name: _last(g.tensors[op.outputs[0]].shape) for op in g.ops if op.name in an.dense}
    plan = {k: min(int(round(r * len(cls))), len(cls) - 1) for k, cls in groups.items()}
    removed_classes: list[ChannelClass] = []
    if any(plan.values()):
        producers = {p for k, cnt in plan.items() if cnt for p in k}
        sal = _saliencies(g, producers, saliency, feeds)
        for key, cls in groups.items():
            if not plan[key]:
                continue
            scores = [sum(sal[p][c] for p, c in cl.producers) for cl in cls]
            order = sorted(range(len(cls)), key=lambda j: (scores[j], j))
            removed_classes += [cls[j] for j in order[:plan[key]]]
    removed_sets: dict[Key, list[int]] = defaultdict(list)
    for cl in removed_classes:
        for key, c in cl.members:
            removed_sets[key].append(c)
    removed = {k: np.asarray(sorted(v), np.int64) for k, v in removed_sets.items()}
    if removed:
        g0 = copy.deepcopy(g) if feeds is not None else None
        _rewrite(g, an, removed)
        check_graph(g)
        consumers = [op.name for op in g.ops if op.name in an.dense and op.inputs[0] in removed]
        if g0 is not None:
            rep.recovery = _recover(g, g0, feeds, an, removed, reconstruct)
        else:
            rep.recovery = {name: Recovery("none", None, None) for name in consumers}
    for op in g.ops:
        if op.name in before:
            rep.channels[op.name] = (before[op.name], _last(g.tensors[op.outputs[0]].shape))
            rem = removed.get(op.outputs[0])
            rep.removed[op.name] = [] if rem is None else [int(c) for c in rem]
    rep.macs_after, rep.weight_bytes_after = graph_macs(g), weight_bytes(g)
    return rep
