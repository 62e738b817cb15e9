"""From a quantized Graph to an EnnModel: integer options, MACs, memory plan, tensor table."""
from __future__ import annotations

import re

import numpy as np

from edgenn.converter import planner
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import call
from edgenn.errors import UNFORESEEN, EdgennError, unforeseen
from edgenn.format import weight_codecs
from edgenn.format.enn import ACTIVATION_DTYPES, EnnIO, EnnModel, EnnOp, EnnTensor
from edgenn.progress import track
from edgenn.runtime_py import memory
from edgenn.runtime_py.memory import OverlapRule


def c_identifier(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_").lower() or "model"
    return s if not s[0].isdigit() else "m_" + s


def buffers_for(g: Graph, cache: dict[int, tuple] | None = None) -> tuple[list[planner.Buffer], int, list[OverlapRule]]:
    """Lifetimes of activations and scratch buffers over the operator order, and overlap links.

    ``cache`` keeps each operator's scratch size and ``memory.output_rules`` (they do not depend on
    the order) across the orders of one graph."""
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
    info = [_op_memory(op, g, cache) for op in g.ops]
    for i, op in enumerate(g.ops):
        if info[i][0]:
            bufs.append(planner.Buffer(f"{op.name}#scratch", info[i][0], i, i))
    links = []
    outputs = set(g.output_names)
    for i, op in enumerate(g.ops):
        for k, j, delta, alias in info[i][1]:
            t = op.inputs[k]
            if alias or (last[t] == i and t not in outputs):
                links.append(OverlapRule(t, op.outputs[j], i, delta, alias=alias))
    return bufs, steps, links


def _op_memory(op: Op, g: Graph, cache: dict[int, tuple] | None) -> tuple[int, list[tuple[int, int, int, bool]]]:
    """(scratch bytes, memory.output_rules) of one operator."""
    if cache is not None and id(op) in cache:
        return cache[id(op)]
    wshape = g.tensors[op.inputs[1]].shape if len(op.inputs) > 1 and op.inputs[1] else None
    # State tensors count as fixed (like constants): no output may take their bytes.
    infos = [None if not t else (t, g.tensors[t].shape, g.tensors[t].nbytes,
                                 g.tensors[t].is_const or g.tensors[t].variable)
             for t in op.inputs]
    outs = [(g.tensors[t].shape, g.tensors[t].nbytes) for t in op.outputs]
    res = (scratch_bytes(op, g), memory.output_rules(op.type, op.options, infos, outs, wshape))
    if cache is not None:
        cache[id(op)] = res
    return res


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

    index = {id(op): k for k, op in enumerate(g.ops)}
    available = set(g.input_names) | {n for n, t in g.tensors.items() if t.is_const or t.variable}
    waits = [{t for t in op.inputs if t and t not in available} for op in g.ops]
    waiting_on: dict[str, list[int]] = {}
    for k, ws in enumerate(waits):
        for t in ws:
            waiting_on.setdefault(t, []).append(k)

    def schedule(key, seed: int) -> list[Op]:
        """A list schedule: at each step the ready operator (in the given order, ties broken at
        random) with the smallest key. The ready set is kept up to date as tensors appear."""
        rnd = random.Random(seed)
        missing = [len(ws) for ws in waits]
        ready = {k for k, m in enumerate(missing) if m == 0}
        remaining_uses = {t: len(c) for t, c in consumers.items()}
        order: list[Op] = []
        pos: dict[str, int] = {}
        while ready:
            cands = [g.ops[k] for k in sorted(ready)]
            cands.sort(key=lambda op: (key(op, pos, remaining_uses), rnd.random()))
            op = cands[0]
            order.append(op)
            ready.discard(index[id(op)])
            for t in op.outputs:
                pos[t] = len(order)
                for k in waiting_on.get(t, ()):
                    missing[k] -= 1
                    if missing[k] == 0:
                        ready.add(k)
            for t in op.inputs:
                if t in remaining_uses:
                    remaining_uses[t] -= 1
        if len(order) != len(g.ops):
            raise EdgennError("internal: the graph has a cycle or an operator input nobody produces")
        return order

    nbytes = {n: t.nbytes for n, t in g.tensors.items()}
    kept = set(g.output_names) | {n for n, t in g.tensors.items() if t.is_const}

    def net_alloc(op, pos, rem):
        freed = sum(nbytes[t] for t in set(op.inputs) if t and rem.get(t, 0) == op.inputs.count(t) and t not in kept)
        return sum(nbytes[t] for t in op.outputs) - freed

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


def plan_graph(g: Graph) -> planner.Plan:
    """Choose the execution order with the smallest planned arena (reorders g.ops) and plan it."""
    orders = candidate_orders(g)
    cache: dict[int, tuple] = {}
    cases = []
    for order in orders:
        g.ops = order
        cases.append(planner.Case(*buffers_for(g, cache)))
    best, plan = planner.plan_orders(cases)
    g.ops = orders[best]
    # The layer-wise lower bound refers to the source model's order (orders[0]), as usually quoted.
    plan.lower_bound = min(plan.lower_bound, planner.lower_bound(cases[0].buffers, cases[0].steps))
    return plan


def to_enn(g: Graph, name: str, provenance: dict[str, str] | None = None) -> EnnModel:
    """Lower a fully quantized graph (options filled by the rules' ``prepare``) to an EnnModel."""
    for op in track(g.ops, "computing fixed-point parameters", unit="layers"):
        try:
            call(op, g, "prepare")
        except EdgennError as e:  # name the file too (the rules name the layer)
            if g.source_file and g.source_file not in str(e):
                raise type(e)(f"{g.source_file}: {e}") from None
            raise
        except UNFORESEEN as e:
            # A rule tripping over an operator it did not expect (e.g. a .tflite operator without
            # its inputs): one line naming it.
            where = f"{g.source_file}: " if g.source_file else ""
            raise unforeseen(f"{where}operator '{op.name}' ({op.type})", "cannot compute its fixed-point parameters",
                             "its inputs, outputs or quantization", e) from None
    original_index = {id(op): i for i, op in enumerate(g.ops)}
    for t in g.tensors.values():
        if not t.is_const and t.dtype not in ACTIVATION_DTYPES:
            raise EdgennError(f"internal: activation {t.name!r} is {t.dtype}, expected one of "
                              f"{', '.join(ACTIVATION_DTYPES)} after quantization")
    plan = plan_graph(g)
    offsets = {b.name: b.offset for b in plan.buffers}
    sizes = {b.name: b.size for b in plan.buffers}

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
            scratch_bytes=sizes.get(scratch, 0),
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
