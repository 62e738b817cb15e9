"""From a quantized Graph to an EnnModel: integer options, MACs, memory plan, tensor table."""
from __future__ import annotations

import time

import re

import numpy as np

from edgenn.converter import planner
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import call
from edgenn.errors import EdgennError
from edgenn.format import weight_codecs
from edgenn.format.enn import ACTIVATION_DTYPES, EnnIO, EnnModel, EnnOp, EnnTensor
from edgenn.runtime_py import memory
from edgenn.runtime_py.memory import OverlapRule


def c_identifier(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_").lower() or "model"
    return s if not s[0].isdigit() else "m_" + s


def buffers_for(g: Graph) -> tuple[list[planner.Buffer], int, list[OverlapRule]]:
    """Lifetimes of activations and scratch buffers over the operator order, and overlap links."""
    steps = len(g.ops)
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for t in g.input_names:
        first[t] = -1
        last[t] = -1
    # State tensors are live over every step (and between invokes): no other buffer takes their bytes.
    for name, t in g.tensors.items():
        if t.variable and any(name in op.inputs for op in g.ops):
            first[name] = -1
            last[name] = steps
    for i, op in enumerate(g.ops):
        for t in op.inputs:
            if t and not g.tensors[t].is_const and not g.tensors[t].variable:
                last[t] = max(last.get(t, i), i)
        for t in op.outputs:
            first.setdefault(t, i)
            last.setdefault(t, i)
    for t in g.output_names:
        last[t] = steps
    bufs = [planner.Buffer(t, g.tensors[t].nbytes, first[t], last[t]) for t in first]
    for i, op in enumerate(g.ops):
        n = scratch_bytes(op, g)
        if n:
            bufs.append(planner.Buffer(f"{op.name}#scratch", n, i, i))
    links = []
    outputs = set(g.output_names)
    for i, op in enumerate(g.ops):
        wshape = g.tensors[op.inputs[1]].shape if len(op.inputs) > 1 and op.inputs[1] else None
        # State tensors count as fixed (like constants): no output may take their bytes.
        infos = [None if not t else (t, g.tensors[t].shape, g.tensors[t].nbytes,
                                     g.tensors[t].is_const or g.tensors[t].variable)
                 for t in op.inputs]
        outs = [(g.tensors[t].shape, g.tensors[t].nbytes) for t in op.outputs]
        for k, j, delta, alias in memory.output_rules(op.type, op.options, infos, outs, wshape):
            t = op.inputs[k]
            if alias or (last[t] == i and t not in outputs):
                links.append(OverlapRule(t, op.outputs[j], i, delta, alias=alias))
    return bufs, steps, links


def scratch_bytes(op: Op, g: Graph) -> int:
    """An operator's scratch region: the kernel's scratch, then a decode slot per encoded weight input."""
    encoded = g.weight_encodings
    slots = [g.tensors[t].nbytes for t in op.inputs if t in encoded]
    return weight_codecs.scratch_layout(int(call(op, g, "scratch_bytes", 0) or 0), slots)[0]


def candidate_orders(g: Graph, limit: int = 12) -> list[list[Op]]:
    """Topological orders worth planning: the given one and memory-aware list schedules."""
    orders = [list(g.ops)]
    producers = g.producers()
    consumers = g.consumer_map()
    if all(len(consumers.get(t, [])) <= 1 for op in g.ops for t in op.outputs) and \
            all(sum(1 for t in op.inputs if t in producers) <= 1 for op in g.ops):
        return orders  # a chain: only one order exists
    import random

    def schedule(key, seed: int) -> list[Op]:
        rnd = random.Random(seed)
        done: set[str] = set(g.input_names) | {n for n, t in g.tensors.items() if t.is_const or t.variable}
        pending = list(g.ops)
        remaining_uses = {t: len(c) for t, c in consumers.items()}
        order: list[Op] = []
        pos: dict[str, int] = {}
        while pending:
            ready = [op for op in pending if all((not t) or t in done for t in op.inputs)]
            ready.sort(key=lambda op: (key(op, pos, remaining_uses), rnd.random()))
            op = ready[0]
            order.append(op)
            pending.remove(op)
            for t in op.outputs:
                done.add(t)
                pos[t] = len(order)
            for t in op.inputs:
                if t in remaining_uses:
                    remaining_uses[t] -= 1
        return order

    def net_alloc(op, pos, rem):
        freed = sum(g.tensors[t].nbytes for t in set(op.inputs) if t and rem.get(t, 0) == op.inputs.count(t)
                    and not g.tensors[t].is_const and t not in g.output_names)
        return sum(g.tensors[t].nbytes for t in op.outputs) - freed

    def depth_first(op, pos, rem):
        return -max((pos.get(t, 0) for t in op.inputs if t), default=0)

    keys = [net_alloc, depth_first]
    seen = {tuple(id(op) for op in orders[0])}
    for seed in range(limit):
        o = schedule(keys[seed % len(keys)], seed)
        sig = tuple(id(op) for op in o)
        if sig not in seen:
            seen.add(sig)
            orders.append(o)
    return orders


#: Seconds of overlap-link search for one graph, shared by its candidate orders (a large graph
#: would otherwise take that long for each of them).
PLAN_BUDGET_S = 10.0


def plan_graph(g: Graph) -> planner.Plan:
    """Choose the execution order with the smallest planned arena (reorders g.ops) and plan it."""
    best = None
    original = list(g.ops)
    deadline = time.monotonic() + PLAN_BUDGET_S
    for order in candidate_orders(g):
        g.ops = order
        bufs, steps, links = buffers_for(g)
        p = planner.plan(bufs, steps, links, deadline=deadline)
        if best is None or p.arena_bytes < best[0].arena_bytes:
            best = (p, order)
    assert best is not None
    g.ops = best[1]
    # The layer-wise lower bound refers to the source model's order, as usually quoted.
    g2_ops = g.ops
    g.ops = original
    bufs, steps, _ = buffers_for(g)
    best[0].lower_bound = min(best[0].lower_bound, planner.lower_bound(bufs, steps))
    g.ops = g2_ops
    return best[0]


def to_enn(g: Graph, name: str, provenance: dict[str, str] | None = None) -> EnnModel:
    """Lower a fully quantized graph (options filled by the rules' ``prepare``) to an EnnModel."""
    for op in g.ops:
        call(op, g, "prepare")
    original_index = {id(op): i for i, op in enumerate(g.ops)}
    for t in g.tensors.values():
        if not t.is_const and t.dtype not in ACTIVATION_DTYPES:
            raise EdgennError(f"internal: activation {t.name!r} is {t.dtype}, expected one of "
                              f"{', '.join(ACTIVATION_DTYPES)} after quantization")
    plan = plan_graph(g)
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
        enc, stream = g.weight_encodings.get(tname, (weight_codecs.RAW, None))
        et = EnnTensor(
            name=t.name, shape=t.shape, dtype=t.dtype,
            scale=q.scale if q is not None else np.zeros(0, np.float32),
            zero_point=q.zero_point if q is not None else np.zeros(0, np.int64),
            quant_axis=q.axis if q is not None else 0,
            data=t.data, arena_offset=-1 if t.is_const else offsets[tname], nbytes=t.nbytes,
            encoding=enc, encoded=stream, variable=t.variable,
            initial=None if t.initial is None else np.asarray(t.initial, dtype=t.dtype).reshape(t.shape))
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
            macs=int(call(op, g, "macs", 0) or 0)))

    def io(d) -> EnnIO:
        return EnnIO(add(d.tensor), d.source_name, tuple(d.source_shape), tuple(d.to_internal_perm))

    model = EnnModel(
        name=c_identifier(name), tensors=tensors, ops=ops, inputs=[io(d) for d in g.inputs],
        outputs=[io(d) for d in g.outputs], arena_bytes=plan.arena_bytes, provenance=dict(provenance or {}),
        plan={"planner": plan.planner, "lower_bound_bytes": plan.lower_bound,
              "order": [original_index[id(op)] for op in g.ops]},
        stateful=bool(g.stateful) and any(t.variable for t in tensors))
    try:
        memory.check_model_plan(model)
    except memory.PlanError as e:
        raise EdgennError(f"internal: the memory plan failed its check: {e}") from None
    return model
