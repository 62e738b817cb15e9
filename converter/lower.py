"""From a quantized Graph to an EnnModel: integer options, MACs, memory plan, tensor table."""
from __future__ import annotations

import re

import numpy as np

from edgenn import registry
from edgenn.converter import planner
from edgenn.converter.graph import Graph, Op
from edgenn.errors import EdgennError
from edgenn.runtime_py.enn import EnnIO, EnnModel, EnnOp, EnnTensor


def rule_call(op: Op, g: Graph, fn: str, default=None):
    """Call an optional function of the operator's converter module."""
    f = getattr(registry.rule(op.type), fn, None)
    return f(op, g) if f is not None else default


def c_identifier(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_").lower() or "model"
    return s if not s[0].isdigit() else "m_" + s


def buffers_for(g: Graph) -> tuple[list[planner.Buffer], int]:
    """Lifetimes of activations and scratch buffers over the operator order."""
    steps = len(g.ops)
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for t in g.input_names:
        first[t] = -1
        last[t] = -1
    for i, op in enumerate(g.ops):
        for t in op.inputs:
            if t and not g.tensors[t].is_const:
                last[t] = max(last.get(t, i), i)
        for t in op.outputs:
            first.setdefault(t, i)
            last.setdefault(t, i)
    for t in g.output_names:
        last[t] = steps
    bufs = [planner.Buffer(t, g.tensors[t].nbytes, first[t], last[t]) for t in first]
    for i, op in enumerate(g.ops):
        n = int(rule_call(op, g, "scratch_bytes", 0) or 0)
        if n:
            bufs.append(planner.Buffer(f"{op.name}#scratch", n, i, i, kind="scratch"))
    return bufs, steps


def to_enn(g: Graph, name: str, provenance: dict[str, str] | None = None) -> EnnModel:
    """Lower a fully quantized graph (options filled by the rules' ``prepare``) to an EnnModel."""
    for op in g.ops:
        rule_call(op, g, "prepare")
    for t in g.tensors.values():
        if not t.is_const and t.dtype != "int8":
            raise EdgennError(f"internal: activation {t.name!r} is {t.dtype}, expected int8 after quantization")
    bufs, steps = buffers_for(g)
    plan = planner.plan(bufs, steps)
    offsets = {b.name: b.offset for b in plan.buffers}

    index: dict[str, int] = {}
    tensors: list[EnnTensor] = []

    def add(tname: str) -> int:
        if not tname:
            return -1
        if tname in index:
            return index[tname]
        t = g.tensors[tname]
        q = t.quant
        et = EnnTensor(
            name=t.name, shape=t.shape, dtype=t.dtype,
            scale=q.scale if q is not None else np.zeros(0, np.float32),
            zero_point=q.zero_point if q is not None else np.zeros(0, np.int64),
            quant_axis=q.axis if q is not None else 0,
            data=t.data, arena_offset=-1 if t.is_const else offsets[tname], nbytes=t.nbytes)
        index[tname] = len(tensors)
        tensors.append(et)
        return index[tname]

    for io in g.inputs:
        add(io.tensor)
    ops: list[EnnOp] = []
    for op in g.ops:
        scratch = f"{op.name}#scratch"
        ops.append(EnnOp(
            type=op.type, name=op.name, inputs=[add(t) for t in op.inputs], outputs=[add(t) for t in op.outputs],
            options=dict(op.options), scratch_offset=offsets.get(scratch, -1),
            scratch_bytes=next((b.size for b in plan.buffers if b.name == scratch), 0),
            macs=int(rule_call(op, g, "macs", 0) or 0)))

    def io(d) -> EnnIO:
        return EnnIO(add(d.tensor), d.source_name, tuple(d.source_shape), tuple(d.to_internal_perm))

    return EnnModel(
        name=c_identifier(name), tensors=tensors, ops=ops, inputs=[io(d) for d in g.inputs],
        outputs=[io(d) for d in g.outputs], arena_bytes=plan.arena_bytes, provenance=dict(provenance or {}),
        plan={"planner": plan.planner, "lower_bound_bytes": plan.lower_bound, "order": list(range(len(ops)))})
