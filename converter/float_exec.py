"""Float execution of the converter's internal graph (NHWC, after ``passes.simplify``).

Calibration and pruning need the values of the graph as it *is* (possibly pruned or with
compressed weights), not of the source model it came from. Every value carries a leading sample
axis: a tensor of shape S is held as an (N, *S) float32 array. Arithmetic runs in float64 and
is stored as float32, the precision of the source model. Each operator's computation is the
``float_run`` of its rule (converter/ops/<name>.py); the helpers below are shared by them.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Callable, Iterable

import numpy as np

from edgenn.converter.graph import Graph, Op, Tensor
from edgenn.converter.ops import rule, traits
from edgenn.errors import UNFORESEEN, DataError, EdgennError, unforeseen
from edgenn.format.operators import OPERATORS
from edgenn.runtime_py.dataio import source_batches

Act = tuple[float | None, float | None]
PREACT_SUFFIX = "#preact"


# ---------------------------------------------------------------------- inputs

def graph_feeds(g: Graph, data: list[np.ndarray], what: str = "calibration data") -> dict[str, np.ndarray]:
    """User arrays in the source model's layout -> float32 (N, *tensor.shape) per internal input tensor."""
    if len(data) != len(g.inputs):
        raise DataError(f"the model has {len(g.inputs)} input(s) but {len(data)} {what} array(s) were given")
    feeds: dict[str, np.ndarray] = {}
    n = None
    for io, arr in zip(g.inputs, data):
        a = source_batches(arr, tuple(io.source_shape), what, io.source_name, g.tensors[io.tensor].dtype)
        with np.errstate(over="ignore"):  # reported just below
            x = a.astype(np.float32)
        if not np.all(np.isfinite(x)):
            # finite float64 beyond float32's range becomes Inf here
            raise DataError(f"{what} for input '{io.source_name}' contains NaN or Inf (or values beyond float32)")
        perm = tuple(io.to_internal_perm) or tuple(range(len(io.source_shape)))
        x = np.ascontiguousarray(np.transpose(x, (0,) + tuple(1 + p for p in perm)))
        t = g.tensors[io.tensor]
        if tuple(x.shape[1:]) != tuple(t.shape):
            raise DataError(f"{what} for input '{io.source_name}' has internal shape {x.shape[1:]}, "
                            f"but the graph's tensor {t.name!r} is {t.shape}")
        if n is not None and x.shape[0] != n:
            raise DataError(f"{what}: all inputs need the same number of samples ({n} vs {x.shape[0]})")
        n = x.shape[0]
        feeds[io.tensor] = x
    return feeds


# ---------------------------------------------------------------------- helpers

def fused_act(op: Op) -> Act | None:
    """The fused activation bounds of ``op``, or None when it has none (or an open one).

    Only operators whose rule declares ``fused_activation`` have one (a standalone ``clip``'s
    bounds are the operation itself).
    """
    if not traits(op.type).fused_activation:
        return None
    act = op.attrs.get("act")
    if act is None or tuple(act) == (None, None):
        return None
    return (act[0], act[1])


def clamp(y: np.ndarray, act: Act | None) -> np.ndarray:
    """Clamp to (lo, hi) real bounds, None being an open end."""
    if act is None:
        return y
    lo, hi = act
    if lo is not None:
        y = np.maximum(y, np.float32(lo) if y.dtype == np.float32 else lo)
    if hi is not None:
        y = np.minimum(y, np.float32(hi) if y.dtype == np.float32 else hi)
    return y


def const_values(t: Tensor) -> np.ndarray:
    """A constant's real values (float64); quantized constants are dequantized."""
    d = np.asarray(t.data)
    if d.dtype.kind == "f" or t.quant is None:
        return d.astype(np.float64)
    q = t.quant
    shape = [1] * d.ndim
    if q.scale.size > 1:
        shape[q.axis] = -1
    scale = q.scale.astype(np.float64).reshape(shape)
    zp = q.zero_point.astype(np.float64).reshape(shape)
    return (d.astype(np.float64) - zp) * scale


def taps(x: np.ndarray, k: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
          top_left: tuple[int, int], out_hw: tuple[int, int], fill: float):
    """Per kernel tap (ky, kx): the (M, OH, OW, C) input values under it for every output position.

    Only the top/left pads place the windows (as in TFLM); the output extent comes from the output
    tensor, and positions outside the input read ``fill``.
    """
    m, h, w, c = x.shape
    (kh, kw), (sh, sw), (dh, dw), (pt, pl), (oh, ow) = k, stride, dilation, top_left, out_hw
    ph = max((oh - 1) * sh + (kh - 1) * dh + 1, pt + h)
    pw = max((ow - 1) * sw + (kw - 1) * dw + 1, pl + w)
    xp = np.full((m, ph, pw, c), fill, dtype=x.dtype)
    xp[:, pt:pt + h, pl:pl + w, :] = x
    for ky in range(kh):
        for kx in range(kw):
            y0, x0 = ky * dh, kx * dw
            yield ky, kx, xp[:, y0:y0 + (oh - 1) * sh + 1:sh, x0:x0 + (ow - 1) * sw + 1:sw, :]


def images(x: np.ndarray) -> np.ndarray:
    """(N, B, H, W, C) -> (N*B, H, W, C): samples and the model's own batch are the same to a window."""
    return x.reshape((-1,) + x.shape[-3:])


def window_geometry(op: Op) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    stride = tuple(int(v) for v in op.attrs.get("stride", (1, 1)))
    dilation = tuple(int(v) for v in op.attrs.get("dilation", (1, 1)))
    pads = tuple(int(v) for v in op.attrs.get("pads", (0, 0, 0, 0)))
    return stride, dilation, (pads[0], pads[1])  # type: ignore[return-value]

def lift(v: np.ndarray, name: str, g: Graph, rank: int, const: bool) -> np.ndarray:
    """Align an operand to the output's rank with the sample axis in front (constants get size 1 there)."""
    shape = g.tensors[name].shape
    lead = v.shape[0] if not const else 1
    return v.reshape((lead,) + (1,) * (rank - len(shape)) + tuple(shape))


def binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    """The float_run of a broadcasting binary operator computing ``fn(a, b)``."""
    def run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
        rank = len(g.tensors[op.outputs[0]].shape)
        a, b = (lift(v, name, g, rank, g.tensors[name].is_const) for v, name in zip(xs, op.inputs))
        return [fn(a.astype(np.float64), b.astype(np.float64))]
    return run


def eval_op(op: Op, g: Graph, values: dict[str, np.ndarray], apply_act: bool = True) -> list[np.ndarray]:
    """Evaluate one float op on (N, *shape) arrays; constants come from the graph.

    Returns float32 arrays of shape (N, *output.shape). With ``apply_act=False`` the fused
    activation is left out (a standalone clip still clamps: that is its operation).
    """
    if op.type not in OPERATORS:
        raise EdgennError(f"float execution does not support operator {op.type} '{op.name}'")
    fn = rule(op.type).float_run
    xs: list[np.ndarray | None] = []
    n = None
    for name in op.inputs:
        if not name:
            xs.append(None)
            continue
        t = g.tensors.get(name)
        if t is None:
            raise EdgennError(f"{op.type} '{op.name}': input tensor {name!r} is not in the graph")
        if t.is_const:
            xs.append(const_values(t))
            continue
        v = values.get(name)
        if v is None:
            raise EdgennError(f"{op.type} '{op.name}': input {name!r} has not been computed")
        if tuple(v.shape[1:]) != tuple(t.shape):
            raise EdgennError(f"{op.type} '{op.name}': input {name!r} has shape {v.shape[1:]}, "
                              f"the graph says {t.shape}")
        n = v.shape[0]
        xs.append(v)
    if n is None:
        raise EdgennError(f"{op.type} '{op.name}': has no activation input (only constants)")
    try:
        outs = fn(op, g, xs, n)
    except UNFORESEEN as e:
        # Shapes or attributes the import let through that the float arithmetic cannot follow (an
        # LSTM whose weights do not fit its input, say): one line naming the operator, as
        # lowering does.
        where = f"{g.source_file}: " if g.source_file else ""
        raise unforeseen(f"{where}operator '{op.name}' ({op.type})", "cannot be computed in float on its inputs",
                         "its shapes or attributes", e) from None
    act = fused_act(op) if apply_act else None
    res = []
    for name, y in zip(op.outputs, outs):
        shape = (n,) + tuple(g.tensors[name].shape)
        with np.errstate(over="ignore"):  # Inf like the float32 source model; calibration reports it
            y = np.asarray(y, np.float32)
        if y.size != int(np.prod(shape, dtype=np.int64)):
            raise EdgennError(f"{op.type} '{op.name}': computed {y.shape[1:]} values for output {name!r} "
                              f"of shape {shape[1:]}")
        res.append(clamp(y.reshape(shape), act))
    return res


# ---------------------------------------------------------------------- the graph

def run_graph(g: Graph, feeds: dict[str, np.ndarray], wanted: Iterable[str] | None = None, batch: int = 256,
              preact: bool = False, observe: Callable[[str, np.ndarray], None] | None = None,
              progress: str | None = None) -> dict[str, np.ndarray]:
    """Run ``g.ops`` in order over all samples of ``feeds`` (chunks of ``batch`` samples).

    Returns the ``wanted`` tensors (default: the graph outputs) as (N, *shape) float32; with
    ``preact`` also f"{op.name}#preact" for every op with a fused activation. ``observe(name,
    chunk)`` sees every computed value (inputs included) chunk by chunk, so statistics need not
    keep whole tensors; ``progress`` describes the step on the progress display (edgenn.progress).
    """
    from edgenn.progress import Step, step

    if batch < 1:
        raise EdgennError(f"run_graph: batch must be positive, got {batch}")
    missing = [name for name in g.input_names if name not in feeds]
    extra = [name for name in feeds if name not in g.input_names]
    if missing or extra:
        raise DataError(f"feeds must hold exactly the graph inputs {g.input_names}; "
                        f"missing {missing}, unexpected {extra}")
    ns = {int(np.shape(feeds[k])[0]) for k in g.input_names}
    if len(ns) != 1:
        raise DataError(f"all inputs need the same number of samples, got {sorted(ns)}")
    n = ns.pop()
    for name in g.input_names:
        shape = tuple(np.shape(feeds[name])[1:])
        if shape != tuple(g.tensors[name].shape):
            raise DataError(f"feed {name!r} has per-sample shape {shape}, the graph's input is {g.tensors[name].shape}")
    wanted_l = list(g.output_names if wanted is None else wanted)
    produced = set(g.input_names) | {t for op in g.ops for t in op.outputs}
    unknown = [w for w in wanted_l if w not in produced]
    if unknown:
        raise EdgennError(f"run_graph: {unknown[0]!r} is not an input or an operator output of the graph")
    keep = set(wanted_l)
    last_use: dict[str, int] = {}
    for i, op in enumerate(g.ops):
        for t in op.inputs:
            if t:
                last_use[t] = i
    pre_ops = [op for op in g.ops if fused_act(op) is not None] if preact else []
    pre_names = {op.name for op in pre_ops}
    chunks: dict[str, list[np.ndarray]] = {k: [] for k in wanted_l}
    for op in pre_ops:
        chunks[op.name + PREACT_SUFFIX] = []
    with (step(progress, n, "samples") if progress else nullcontext(Step())) as bar:
        for start in range(0, n, batch):
            values = {k: np.asarray(feeds[k][start:start + batch], np.float32) for k in g.input_names}
            if observe is not None:
                for k, v in values.items():
                    observe(k, v)
            for i, op in enumerate(g.ops):
                if op.name in pre_names:
                    pre = eval_op(op, g, values, apply_act=False)
                    chunks[op.name + PREACT_SUFFIX].append(pre[0])
                    outs = [clamp(y, fused_act(op)) for y in pre]
                else:
                    outs = eval_op(op, g, values)
                for name, y in zip(op.outputs, outs):
                    if observe is not None:
                        observe(name, y)
                    if name in keep or last_use.get(name, -1) > i:
                        values[name] = y
                for t in op.inputs:
                    if t and last_use.get(t) == i and t not in keep:
                        values.pop(t, None)
            for k in wanted_l:
                chunks[k].append(values[k])
            bar.advance(min(batch, n - start))
    return {k: (v[0] if len(v) == 1 else np.concatenate(v)) for k, v in chunks.items()}
