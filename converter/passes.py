"""Float-graph simplifications before calibration: fewer, fused operators, same function.

- cancel_transposes: merge chains of transposes, drop identities, turn data-preserving ones
  into reshapes, and fold NHWC->NCHW flattening into the following fully_connected weights;
- fold_affine: per-channel mul/add by constants after conv / depthwise / fully_connected
  (BatchNorm arrives as such a pair) go into the weights and bias;
- fuse_activations: clip after an operator with a fused activation becomes that activation;
- drop_noops: reshapes to the same shape, clips that clamp nothing.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import is_weighted, traits


class _Uses:
    """The producer and consumers of every tensor, kept current through a pass's own edits (the
    Graph's queries scan every operator: a pass asking them per operator would be quadratic)."""

    def __init__(self, g: Graph):
        self.g = g
        self.producer: dict[str, Op] = {t: op for op in g.ops for t in op.outputs}
        self.consumers: dict[str, list[Op]] = {}
        for op in g.ops:
            self._add_uses(op)
        self.removed: set[int] = set()

    def _add_uses(self, op: Op) -> None:
        for t in dict.fromkeys(op.inputs):
            if t:
                self.consumers.setdefault(t, []).append(op)

    def _drop_uses(self, op: Op) -> None:
        for t in dict.fromkeys(op.inputs):
            if t:
                self.consumers[t] = [c for c in self.consumers[t] if c is not op]

    def alive(self, op: Op) -> bool:
        return id(op) not in self.removed

    def set_io(self, op: Op, inputs: list[str] | None = None, outputs: list[str] | None = None) -> None:
        if inputs is not None:
            self._drop_uses(op)
            op.inputs = list(inputs)
            self._add_uses(op)
        if outputs is not None:
            for t in op.outputs:
                if self.producer.get(t) is op:
                    del self.producer[t]
            op.outputs = list(outputs)
            for t in op.outputs:
                self.producer[t] = op

    def remove(self, op: Op) -> None:
        self._drop_uses(op)
        for t in op.outputs:
            if self.producer.get(t) is op:
                del self.producer[t]
        self.removed.add(id(op))
        self.g.remove_op(op)

    def replace_uses(self, old: str, new: str) -> None:
        """Make every consumer (and graph output) of ``old`` read ``new`` instead."""
        for c in list(self.consumers.get(old, ())):
            self.set_io(c, inputs=[new if t == old else t for t in c.inputs])
        for io in self.g.outputs:
            if io.tensor == old:
                io.tensor = new

    def single_consumer(self, tensor: str) -> Op | None:
        cs = self.consumers.get(tensor, [])
        if len(cs) == 1 and not self.g.is_graph_output(tensor) and cs[0].inputs.count(tensor) == 1:
            return cs[0]
        return None


def _bypass(u: _Uses, op: Op) -> None:
    """Remove a single-input single-output op that does nothing to the bytes."""
    if u.g.is_graph_output(op.outputs[0]):
        op.type, op.attrs = "reshape", {}  # a graph output keeps its own tensor: copy
        return
    u.remove(op)
    u.replace_uses(op.outputs[0], op.inputs[0])


def _is_identity(p) -> bool:
    return tuple(p) == tuple(range(len(p)))


def cancel_transposes(g: Graph) -> bool:
    changed = False
    u = _Uses(g)
    for op in list(g.ops):
        if not u.alive(op) or op.type != "transpose":
            continue
        perm = tuple(op.attrs["perm"])
        x = g.tensors[op.inputs[0]]
        if _is_identity(perm):
            _bypass(u, op)
            changed = True
            continue
        # transpose(transpose(x, p), q) = transpose(x, p o q)
        nxt = u.single_consumer(op.outputs[0])
        if nxt is not None and nxt.type == "transpose":
            q = tuple(nxt.attrs["perm"])
            nxt.attrs["perm"] = tuple(perm[i] for i in q)
            u.set_io(nxt, inputs=[op.inputs[0]])
            u.remove(op)
            changed = True
            continue
        # Moving only size-1 axes keeps the byte order: a reshape.
        moved = [a for a in perm if x.shape[a] != 1]
        if moved == sorted(moved):
            op.type = "reshape"
            op.attrs = {}
            changed = True
            continue
        # NHWC -> NCHW, reshape to (N, C*H*W), fully_connected: permute the weight columns instead.
        if nxt is not None and nxt.type == "reshape" and len(perm) == 4 and perm == (0, 3, 1, 2):
            rs_out = g.tensors[nxt.outputs[0]]
            fc = u.single_consumer(nxt.outputs[0])
            if fc is not None and fc.type == "fully_connected" and fc.inputs[0] == nxt.outputs[0] \
                    and len(rs_out.shape) == 2 and x.shape[0] == 1:
                w = g.tensors[fc.inputs[1]]
                n, h, wd, c = x.shape
                if w.data is not None and w.data.shape[1] == c * h * wd:
                    # column for NHWC position (h, w, c) was at NCHW index c*H*W + h*W + w
                    idx = np.arange(c * h * wd).reshape(c, h, wd).transpose(1, 2, 0).reshape(-1)
                    w.data = np.ascontiguousarray(w.data[:, idx])
                    u.set_io(nxt, inputs=[op.inputs[0]])
                    # The flattened tensor is now in NHWC order: no longer the ONNX value.
                    rs_out.origin = None
                    u.remove(op)
                    changed = True
                    continue
    if changed:
        g.prune()
    return changed


def fold_affine(g: Graph) -> bool:
    """Fold y = producer(x) * a + b (per output channel constants) into the producer."""
    changed = False
    u = _Uses(g)
    for op in list(g.ops):
        if not u.alive(op) or op.type not in ("mul", "add") or len(op.inputs) != 2:
            continue
        x, c = op.inputs
        ct = g.tensors[c]
        if ct.data is None:
            continue
        prod = u.producer.get(x)
        if prod is None or not is_weighted(prod.type) or u.single_consumer(x) is not op:
            continue
        if prod.attrs.get("act", (None, None)) != (None, None):
            continue
        out = g.tensors[op.outputs[0]]
        if out.shape != g.tensors[x].shape:
            continue
        co = g.tensors[x].shape[-1]
        vec = np.broadcast_to(ct.data.astype(np.float64), out.shape)
        per = vec.reshape(-1, co)
        if not np.all(per == per[0:1]):
            continue  # not per-channel
        v = per[0]
        w = g.tensors[prod.inputs[1]]
        bias_name = prod.inputs[2] if len(prod.inputs) > 2 and prod.inputs[2] else None
        bias = g.tensors[bias_name].data.astype(np.float64) if bias_name else np.zeros(co)
        if op.type == "mul":
            shape = [1] * w.data.ndim
            shape[traits(prod.type).weight_axis] = -1  # the per-output-channel axis of the weights
            wd = w.data.astype(np.float64) * v.reshape(shape)
            w2 = g.add_const(w.name, wd.astype(np.float32))
            u.set_io(prod, inputs=[prod.inputs[0], w2.name] + prod.inputs[2:])
            bias = bias * v
        else:
            bias = bias + v
        b2 = g.add_const(f"{prod.name}_bias", bias.astype(np.float32))
        u.set_io(prod, inputs=prod.inputs[:2] + [b2.name] + prod.inputs[3:])
        out = op.outputs[0]
        u.remove(op)
        u.set_io(prod, outputs=[out])
        changed = True
    if changed:
        g.prune()
    return changed


def _intersect(a, b):
    lo = [v for v in (a[0], b[0]) if v is not None]
    hi = [v for v in (a[1], b[1]) if v is not None]
    return (max(lo) if lo else None, min(hi) if hi else None)


def fuse_activations(g: Graph) -> bool:
    changed = False
    u = _Uses(g)
    for op in list(g.ops):
        if not u.alive(op) or op.type != "clip":
            continue
        prod = u.producer.get(op.inputs[0])
        if prod is None or not traits(prod.type).fused_activation or u.single_consumer(op.inputs[0]) is not op:
            continue
        prod.attrs["act"] = _intersect(prod.attrs.get("act", (None, None)), op.attrs["act"])
        out = op.outputs[0]
        u.remove(op)
        u.set_io(prod, outputs=[out])
        changed = True
    if changed:
        g.prune()
    return changed


ELEMENTWISE_UNARY = {"clip"}


def hoist_activations(g: Graph) -> bool:
    """reshape -> clip becomes clip -> reshape, so the clip can fuse into the op before the reshape
    (1-D convolutions run as 2-D ones between reshapes)."""
    changed = False
    u = _Uses(g)
    for op in list(g.ops):
        if not u.alive(op) or op.type not in ELEMENTWISE_UNARY:
            continue
        rs = u.producer.get(op.inputs[0])
        if rs is None or rs.type != "reshape" or u.single_consumer(op.inputs[0]) is not op:
            continue
        src = g.tensors[rs.inputs[0]]
        mid, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        # clip now runs on the reshape's input shape; the reshape produces the clip's old output
        # same bytes as the old output, so the same source values (in the same stored order)
        clipped = g.add_tensor(g.unique(out.name + "_pre"), src.shape, origin=out.origin,
                               origin_perm=out.origin_perm)
        rs_in = rs.inputs[0]
        u.set_io(op, inputs=[rs_in], outputs=[clipped.name])
        u.set_io(rs, inputs=[clipped.name], outputs=[out.name])
        del g.tensors[mid.name]
        g.toposort()
        changed = True
    if changed:
        g.prune()
    return changed


def drop_noops(g: Graph) -> bool:
    changed = False
    u = _Uses(g)
    for op in list(g.ops):
        if not u.alive(op):
            continue
        x = g.tensors[op.inputs[0]] if op.inputs and op.inputs[0] else None
        if op.type == "reshape" and x is not None:
            y = g.tensors[op.outputs[0]]
            prev = u.producer.get(op.inputs[0])
            if prev is not None and prev.type == "reshape" and u.single_consumer(op.inputs[0]) is op:
                u.set_io(op, inputs=[prev.inputs[0]])
                u.remove(prev)
                changed = True
                continue
            if x.shape == y.shape and not g.is_graph_output(y.name) and op.inputs[0] not in g.input_names:
                u.replace_uses(y.name, x.name)
                u.remove(op)
                changed = True
        elif op.type == "clip" and tuple(op.attrs.get("act", (None, None))) == (None, None):
            if not g.is_graph_output(op.outputs[0]):
                u.replace_uses(op.outputs[0], op.inputs[0])
                u.remove(op)
                changed = True
    if changed:
        g.prune()
    return changed


def simplify(g: Graph) -> Graph:
    """Run all passes to a fixed point."""
    for _ in range(50):
        changed = cancel_transposes(g)
        changed |= hoist_activations(g)
        changed |= fold_affine(g)
        changed |= fuse_activations(g)
        changed |= drop_noops(g)
        if not changed:
            break
    g.toposort()
    return g
