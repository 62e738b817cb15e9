"""Memory-plan semantics shared by the planner (which builds plans) and the interpreter (which
refuses to run an invalid one): lifetimes, in-place/overlap rules, and the plan checker.

Overlap rules come from the kernels' traversal order (Python and C kernels alike write their
output in increasing address order). An operator may write its output over an input that
dies at that operator when, at every moment, the bytes it has written stay below the lowest
input byte it will still read. Placing the output ``delta`` bytes below the input
(``out_offset = in_offset - delta``) is safe iff ``delta >= min_delta``. Each kernel declares
which rule applies to it (``TRAITS.overlap``, runtime_py/kernels/__init__.py):

- elementwise (each output element written right after its input element is read, softmax
  row by row, add/mul on an input of the output's own shape): ``min_delta = 0`` (in place);
- alias (reshape): the same bytes, no copy; concat along an axis with only unit axes before it:
  each input an alias of its slice of the output (producers write straight into it);
- view (slice, split): an output that is a contiguous byte range of the input (the kernel's
  ``view_offsets``) is an alias of those bytes: nothing is copied, and neither is written again;
- windowed operators (conv2d, depthwise_conv2d, pooling, output pixel by pixel in row-major
  order, channels innermost): ``min_delta = max_k (W_k - L_k)`` with W_k the output bytes
  written up to and including pixel k and L_k the lowest input byte read by pixels >= k;
- everything else: no overlap.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from edgenn.runtime_py.kernels import kernel
from edgenn.runtime_py.kernels import traits as kernel_traits

ALIGN = 4


def align_up(x: int, a: int = ALIGN) -> int:
    return (x + a - 1) // a * a


def _window_geometry(options: dict[str, Any], weight_shape: Sequence[int] | None):
    """(kh, kw, sh, sw, dh, dw, pad_top, pad_left) of a windowed operator: the filter extent from its
    options (pooling: filter_h, filter_w) or else from its weights (N, KH, KW, C) (convolutions)."""
    o = options
    if "filter_h" in o:
        kh, kw = int(o["filter_h"]), int(o["filter_w"])
    else:
        kh, kw = int(weight_shape[1]), int(weight_shape[2])
    return (kh, kw, int(o.get("stride_h", 1)), int(o.get("stride_w", 1)), int(o.get("dilation_h", 1)),
            int(o.get("dilation_w", 1)), int(o.get("pad_top", 0)), int(o.get("pad_left", 0)))


def window_min_delta(in_shape: Sequence[int], out_shape: Sequence[int], geometry) -> int:
    """max_k (bytes written through output pixel k) - (lowest input byte read by pixels >= k)."""
    kh, kw, sh, sw, dh, dw, pt, pl = geometry
    n, ih, iw, ic = (int(v) for v in in_shape)
    _, oh, ow, oc = (int(v) for v in out_shape)
    oy = np.arange(oh)
    ox = np.arange(ow)
    # First valid tap (smallest row, then smallest column) of each output position.
    def first_valid(o, stride, pad, dil, taps, size):
        org = o * stride - pad
        k = np.maximum(0, -(-(-org) // dil))  # ceil(-org / dil) for org < 0, else 0
        k = np.where(org >= 0, 0, k)
        pos = org + k * dil
        ok = (k < taps) & (pos < size)
        return np.where(ok, pos, size)  # an empty window reads nothing: treat as "far away"
    ry = first_valid(oy, sh, pt, dh, kh, ih)
    rx = first_valid(ox, sw, pl, dw, kw, iw)
    start = (ry[:, None] * iw + np.where(ry[:, None] < ih, rx[None, :], 0)) * ic  # (oh, ow)
    per_batch = ih * iw * ic
    starts = (np.arange(n)[:, None] * per_batch + start.reshape(1, -1)).reshape(-1).astype(np.int64)
    starts = np.minimum(starts, n * per_batch)
    suffix_min = np.minimum.accumulate(starts[::-1])[::-1]
    written = (np.arange(starts.size, dtype=np.int64) + 1) * oc
    return int(np.max(written - suffix_min))


def min_delta(op_type: str, options: dict[str, Any], in_shape: Sequence[int], out_shape: Sequence[int],
              weight_shape: Sequence[int] | None = None) -> int | None:
    """Smallest safe (input offset - output offset) for writing the output over this input, or None."""
    overlap = kernel_traits(op_type).overlap
    if overlap == "alias":
        return 0
    if overlap == "elementwise":
        return 0 if tuple(in_shape) == tuple(out_shape) else None
    if overlap == "windowed" and len(in_shape) == 4 and len(out_shape) == 4:
        return window_min_delta(in_shape, out_shape, _window_geometry(options, weight_shape))
    return None


@dataclass
class Region:
    """A buffer of the plan: bytes [offset, offset + size) live over steps [first, last]."""

    name: str
    size: int
    first: int
    last: int
    offset: int = -1

    def lives_with(self, other: "Region") -> bool:
        return self.first <= other.last and other.first <= self.last

    def overlaps(self, other: "Region") -> bool:
        return self.offset < other.offset + other.size and other.offset < self.offset + self.size


@dataclass
class OverlapRule:
    """Output ``out`` of step ``step`` may overlap input ``inp`` if in_offset - out_offset >= delta."""

    inp: str
    out: str
    step: int
    delta: int
    alias: bool = False

    def satisfied(self, regions: dict[str, Region]) -> bool:
        i, o = regions[self.inp], regions[self.out]
        if self.alias:
            return i.offset - o.offset == self.delta
        return i.offset - o.offset >= self.delta


class PlanError(Exception):
    """A memory plan that would let two live buffers share bytes."""


def check_plan(regions: list[Region], rules: list[OverlapRule], arena_bytes: int) -> None:
    """Prove that no two live buffers share a byte unless an overlap rule allows it.

    Aliases compose: buffers joined by a chain of satisfied alias rules (a slice of a reshape of
    a split output, ...) hold the same bytes where they overlap, as each link does."""
    by_name = {r.name: r for r in regions}
    allowed = {}
    parent: dict[str, str] = {}

    def root(n: str) -> str:
        while parent.get(n, n) != n:
            n = parent[n]
        return n

    for rule in rules:
        allowed[frozenset((rule.inp, rule.out))] = rule
        if rule.alias and rule.inp in by_name and rule.out in by_name and rule.satisfied(by_name):
            parent[root(rule.inp)] = root(rule.out)
    for r in regions:
        if r.size and (r.offset < 0 or r.offset % ALIGN or r.offset + r.size > arena_bytes):
            raise PlanError(f"buffer {r.name!r} at [{r.offset}, {r.offset + r.size}) is unaligned or outside the "
                            f"{arena_bytes}-byte arena")
    # Sweep over time: each buffer is checked against the buffers still live when it starts, so the
    # work grows with buffers x the number live at once, not with the square of all buffers.
    active: list[Region] = []
    for b in sorted((r for r in regions if r.size), key=lambda r: (r.first, r.offset, r.name)):
        active = [a for a in active if a.last >= b.first]
        for a in active:
            if not a.overlaps(b) or not a.lives_with(b):
                continue
            rule = allowed.get(frozenset((a.name, b.name)))
            if rule is not None and rule.satisfied(by_name):
                continue
            if root(a.name) == root(b.name):
                continue
            a, b2 = (a, b) if a.offset <= b.offset else (b, a)
            why = "" if rule is None else f" (in-place at step {rule.step} needs the output {rule.delta} B below the input)"
            raise PlanError(f"buffers {a.name!r} [{a.offset}, {a.offset + a.size}) and {b2.name!r} "
                            f"[{b2.offset}, {b2.offset + b2.size}) are live together at steps "
                            f"{max(a.first, b2.first)}..{min(a.last, b2.last)} but overlap{why}")
        active.append(b)


def model_regions(model) -> tuple[list[Region], list[OverlapRule]]:
    """Lifetimes and permitted overlaps of an EnnModel's plan (as stored in the file)."""
    steps = len(model.ops)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for d in model.inputs:
        first[d.tensor] = -1
        last[d.tensor] = -1
    for t, et in enumerate(model.tensors):
        if et.variable:  # state: live over every step, never shared
            first[t] = -1
            last[t] = steps
    for i, op in enumerate(model.ops):
        for t in op.inputs:
            if t >= 0 and not model.tensors[t].is_const and not model.tensors[t].variable:
                last[t] = max(last.get(t, i), i)
                first.setdefault(t, i)
        for t in op.outputs:
            first.setdefault(t, i)
            last[t] = max(last.get(t, i), i)
    for d in model.outputs:
        last[d.tensor] = steps
    regions = [Region(f"t{t}:{model.tensors[t].name}", model.tensors[t].nbytes, first[t], last[t],
                      model.tensors[t].arena_offset) for t in first]
    for i, op in enumerate(model.ops):
        if op.scratch_bytes:
            regions.append(Region(f"scratch{i}:{op.name}", op.scratch_bytes, i, i, op.scratch_offset))
    names = {t: f"t{t}:{model.tensors[t].name}" for t in first}
    rules = []
    for i, op in enumerate(model.ops):
        for r in op_rules(model, i, op, last):
            rules.append(OverlapRule(names[r[0]], names[r[1]], i, r[2], r[3]))
    return regions, rules


def concat_slices(options: dict[str, Any], in_shapes: Sequence[Sequence[int]], out_shape: Sequence[int],
                  itemsize: int = 1) -> list[int] | None:
    """Byte offset of each input inside a concat output, when every input is one contiguous slice."""
    axis = int(options.get("axis", 0))
    if any(int(d) != 1 for d in out_shape[:axis]):
        return None
    offs, off = [], 0
    for s in in_shapes:
        offs.append(off)
        off += int(np.prod(s)) * itemsize
    return offs


def pair_rules(op_type: str, options: dict[str, Any], inputs: Sequence[tuple[Any, Sequence[int], int, bool] | None],
               out_shape: Sequence[int], out_nbytes: int, weight_shape: Sequence[int] | None = None
               ) -> list[tuple[int, int, bool]]:
    """(input position, delta, alias) for every input the output may share bytes with.

    ``inputs`` are (tensor key, shape, nbytes, is_const) or None. An alias (reshape; concat
    slices) shares bytes exactly at ``in_offset - out_offset == delta`` whatever the lifetimes,
    since neither side is written again; any other rule needs the input to die at this
    operator and ``in_offset - out_offset >= delta``.
    """
    keys = [x[0] if x is not None else None for x in inputs]
    # An input read twice by the operator (x + x) cannot take the output's place.
    live = [k for k, x in enumerate(inputs) if x is not None and not x[3] and keys.count(x[0]) == 1]
    res = []
    overlap = kernel_traits(op_type).overlap
    if overlap == "concat":
        offs = concat_slices(options, [x[1] for x in inputs if x is not None], out_shape)
        if offs is not None and all(x is not None for x in inputs):
            res = [(k, offs[k], True) for k in live]
        return res
    for k in live:
        if overlap == "windowed" and k != 0:
            continue
        _, shape, nbytes, _ = inputs[k]
        d = min_delta(op_type, options, shape, out_shape, weight_shape)
        if d is None:
            continue
        if overlap == "elementwise" and out_nbytes > nbytes:
            continue  # a wider output (int8 -> int16) would overwrite input bytes not yet read
        if overlap == "alias" and nbytes == out_nbytes:
            res.append((k, 0, True))
        else:
            res.append((k, align_up(d) if d > 0 else -align_down(-d), False))
    return res


def output_rules(op_type: str, options: dict[str, Any],
                 inputs: Sequence[tuple[Any, Sequence[int], int, bool] | None],
                 outputs: Sequence[tuple[Sequence[int], int]], weight_shape: Sequence[int] | None = None
                 ) -> list[tuple[int, int, int, bool]]:
    """(input position, output position, delta, alias) for every pair of an input and an output
    that may share bytes; ``outputs`` are (shape, nbytes). A view operator's outputs (slice, split)
    are aliases of their contiguous byte ranges of input 0 (4-byte aligned ones: every buffer of a
    plan is); every other operator's rules are ``pair_rules`` of output 0."""
    if not outputs:
        return []
    if kernel_traits(op_type).overlap == "view":
        x = inputs[0] if inputs else None
        if x is None or x[3]:
            return []
        size = int(np.prod(x[1], dtype=np.int64))
        offs = kernel(op_type).view_offsets(options, x[1], [s for s, _ in outputs], x[2] // max(size, 1))
        return [(0, j, -off, True) for j, off in enumerate(offs) if off is not None and off % ALIGN == 0]
    shape, nbytes = outputs[0]
    return [(k, 0, d, a) for k, d, a in pair_rules(op_type, options, inputs, shape, nbytes, weight_shape)]


def op_rules(model, step: int, op, last: dict[int, int]) -> list[tuple[int, int, int, bool]]:
    """(input, output, delta, alias) pairs that operator ``step`` of an EnnModel permits."""
    weight_shape = model.tensors[op.inputs[1]].shape if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
    infos = [None if t < 0 else (t, model.tensors[t].shape, model.tensors[t].nbytes,
                                 model.tensors[t].is_const or model.tensors[t].variable)
             for t in op.inputs]
    outs = [(model.tensors[t].shape, model.tensors[t].nbytes) for t in op.outputs]
    graph_outputs = {d.tensor for d in model.outputs}
    res = []
    for k, j, delta, alias in output_rules(op.type, op.options, infos, outs, weight_shape):
        t = op.inputs[k]
        if alias or (last.get(t) == step and t not in graph_outputs):
            res.append((t, op.outputs[j], delta, alias))
    return res


def align_down(x: int, a: int = ALIGN) -> int:
    return x // a * a


def check_model_plan(model) -> None:
    regions, rules = model_regions(model)
    check_plan(regions, rules, model.arena_bytes)
