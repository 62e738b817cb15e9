"""ONNX subgraphs that edgenn imports as one unit, and the composite ONNX operators built from
several edgenn operators.

``fuse(nodes, consts)`` rewrites the node list the importer walks (never the model that onnxruntime
calibrates with):

- the Erf form of GELU, x * 0.5 * (1 + Erf(x / sqrt 2)) (PyTorch's exact GELU before opset 20; the
  0.5 may come first, the division may be a multiplication by 1 / sqrt 2), becomes a Gelu node;
- the decomposed layer normalization of exporters before opset 17, ReduceMean -> Sub -> Pow(2) ->
  ReduceMean -> Add(eps) -> Sqrt -> Div (-> Mul(scale) -> Add(bias)), both means over the same one
  axis (-1 from PyTorch, the last axis by number from Paddle2ONNX), becomes a LayerNormalization
  over that axis (a scale or bias not constant yet, e.g. Paddle's Reshape to a slice of the input's
  Shape, stays a Mul / Add of its own).

Every intermediate value of a fused subgraph must be used inside it only.

``layer_norm`` imports LayerNormalization (opset 17, and the fused form) as TFLM's int8 operators in
the arithmetic of TensorFlow's decomposition (mean, squared_difference, mean, rsqrt table) but
normalizing the centred input: m = mean(x), d = x - m (sub), v = mean(squared_difference(x, m)),
r = 1 / sqrt(v + eps) (a lut), y = d * r (mul), then * scale (mul) and + bias (add) with constants.
Centring first keeps int8 resolution (TF's x * r - m * r subtracts two large products). The
intermediate tensors exist only in the IR: their origin is "<output>#ir:<step>", and calibration
measures them by executing the float graph (converter/calibrate.py).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import onnx

IR_ORIGIN = "#ir:"  # marks an IR-only tensor's origin: calibrated by float execution of the graph


def _const_value(name: str, consts: dict[str, np.ndarray]) -> float | None:
    v = consts.get(name)
    if v is None or np.asarray(v).size != 1:
        return None
    return float(np.asarray(v).reshape(-1)[0])


def _near(v: float | None, want: float, tol: float = 1e-4) -> bool:
    return v is not None and abs(v - want) <= tol * max(1.0, abs(want))


class _Index:
    def __init__(self, nodes: list[onnx.NodeProto], outputs: set[str]):
        self.producer = {o: n for n in nodes for o in n.output if o}
        self.users: dict[str, list[onnx.NodeProto]] = {}
        for n in nodes:
            for i in n.input:
                if i:
                    self.users.setdefault(i, []).append(n)
        self.outputs = outputs

    def only_user(self, value: str) -> onnx.NodeProto | None:
        """The single node reading ``value`` when nothing else (no graph output) does."""
        u = self.users.get(value, [])
        return u[0] if len(u) == 1 and value not in self.outputs else None


def _other(node: onnx.NodeProto, name: str) -> str | None:
    """The other operand of a two-input node that reads ``name``."""
    if len(node.input) != 2 or name not in node.input:
        return None
    return node.input[1] if node.input[0] == name else node.input[0]


def _gelu(erf: onnx.NodeProto, idx: _Index, consts) -> tuple[list[onnx.NodeProto], onnx.NodeProto] | None:
    scale = idx.producer.get(erf.input[0])
    if scale is None or idx.only_user(scale.output[0]) is not erf or len(scale.input) != 2:
        return None
    x = scale.input[0]
    c = _const_value(scale.input[1], consts)
    if not ((scale.op_type == "Div" and _near(c, np.sqrt(2.0))) or (scale.op_type == "Mul" and _near(c, np.sqrt(0.5)))):
        return None
    add = idx.only_user(erf.output[0])
    if add is None or add.op_type != "Add" or not _near(_const_value(_other(add, erf.output[0]) or "", consts), 1.0):
        return None
    mul = idx.only_user(add.output[0])
    if mul is None or mul.op_type != "Mul":
        return None
    other = _other(mul, add.output[0])
    if other == x:  # x * (1 + erf) * 0.5
        half = idx.only_user(mul.output[0])
        if half is None or half.op_type != "Mul" or not _near(_const_value(_other(half, mul.output[0]) or "", consts), 0.5):
            return None
        used, out = [scale, erf, add, mul, half], half.output[0]
    else:  # (x * 0.5) * (1 + erf)
        h = idx.producer.get(other or "")
        if h is None or h.op_type != "Mul" or idx.only_user(h.output[0]) is not mul or x not in h.input \
                or not _near(_const_value(_other(h, x) or "", consts), 0.5):
            return None
        used, out = [scale, erf, add, h, mul], mul.output[0]
    node = onnx.helper.make_node("Gelu", [x], [out], name=f"{erf.name or out}#gelu", approximate="none")
    return used, node


def _axes(node: onnx.NodeProto, consts) -> list[int] | None:
    for a in node.attribute:
        if a.name == "axes":
            return list(onnx.helper.get_attribute_value(a))
    if len(node.input) > 1 and node.input[1] in consts:
        return [int(v) for v in np.asarray(consts[node.input[1]]).reshape(-1)]
    return None


def _single_axis(node: onnx.NodeProto, consts) -> int | None:
    """The one axis a ReduceMean reduces, keeping it (-1, or a positive axis as Paddle writes it)."""
    axes = _axes(node, consts)
    keep = next((onnx.helper.get_attribute_value(a) for a in node.attribute if a.name == "keepdims"), 1)
    return axes[0] if keep == 1 and axes is not None and len(axes) == 1 else None


def _layer_norm(mean: onnx.NodeProto, idx: _Index, consts) -> tuple[list[onnx.NodeProto], onnx.NodeProto] | None:
    x = mean.input[0]
    axis = _single_axis(mean, consts)
    if axis is None:
        return None
    users = idx.users.get(mean.output[0], [])
    sub = users[0] if len(users) == 1 and mean.output[0] not in idx.outputs else None
    if sub is None or sub.op_type != "Sub" or list(sub.input) != [x, mean.output[0]]:
        return None
    d = sub.output[0]
    d_users = idx.users.get(d, [])
    if len(d_users) != 2 or d in idx.outputs:
        return None
    pow_ = next((n for n in d_users if n.op_type == "Pow"), None)
    div = next((n for n in d_users if n.op_type == "Div"), None)
    if pow_ is None or div is None or pow_.input[0] != d or not _near(_const_value(pow_.input[1], consts), 2.0) \
            or div.input[0] != d:
        return None
    var = idx.only_user(pow_.output[0])
    if var is None or var.op_type != "ReduceMean" or _single_axis(var, consts) != axis:
        return None
    add = idx.only_user(var.output[0])
    eps = _const_value(_other(add, var.output[0]) or "", consts) if add is not None and add.op_type == "Add" else None
    if eps is None or eps < 0:
        return None
    sqrt = idx.only_user(add.output[0])
    if sqrt is None or sqrt.op_type != "Sqrt" or idx.only_user(sqrt.output[0]) is not div or div.input[1] != sqrt.output[0]:
        return None
    used = [mean, sub, pow_, var, add, sqrt, div]
    out, scale, bias = div.output[0], "", ""
    mul = idx.only_user(out)
    if mul is not None and mul.op_type == "Mul" and (_other(mul, out) or "") in consts:
        used.append(mul)
        out, scale = mul.output[0], _other(mul, out) or ""
        badd = idx.only_user(out)
        if badd is not None and badd.op_type == "Add" and (_other(badd, out) or "") in consts:
            used.append(badd)
            out, bias = badd.output[0], _other(badd, out) or ""
    # Over that one axis only (LayerNormalization's own axis means "from here to the last"): the
    # shapes are not known yet, so the import reduces exactly the axis the exporter's graph did.
    node = onnx.helper.make_node("LayerNormalization", [x, scale, bias], [out], name=f"{mean.name or out}#layernorm",
                                 axis=axis, epsilon=float(eps), edgenn_single_axis=1)
    return used, node


PATTERNS: dict[str, Callable] = {"Erf": _gelu, "ReduceMean": _layer_norm}


def fuse(nodes: list[onnx.NodeProto], consts: dict[str, np.ndarray], outputs: set[str]) -> list[onnx.NodeProto]:
    """The node list with every recognised subgraph replaced by its one node (placed where the
    subgraph's last node was, so every input is still defined before it)."""
    idx = _Index(nodes, outputs)
    replaced: dict[int, onnx.NodeProto] = {}
    dropped: set[int] = set()
    pos = {id(n): i for i, n in enumerate(nodes)}
    for n in nodes:
        fn = PATTERNS.get(n.op_type)
        if fn is None or id(n) in dropped or n.domain not in ("", "ai.onnx"):
            continue
        found = fn(n, idx, consts)
        if found is None:
            continue
        used, new = found
        if any(id(u) in dropped for u in used):
            continue
        last = max(pos[id(u)] for u in used)
        dropped.update(id(u) for u in used)
        replaced[last] = new
    return [replaced[i] if i in replaced else n for i, n in enumerate(nodes) if i in replaced or id(n) not in dropped]


# ---------------------------------------------------------------------- composite operators

def layer_norm(imp, node: onnx.NodeProto) -> None:
    """LayerNormalization over the axes from ``axis`` to the last, as int8 operators (see above)."""
    extra = {o for o in node.output[1:] if o}
    if extra & ({i for n in imp.nodes for i in n.input} | {o.name for o in imp.model.graph.output}):
        imp.fail("LayerNormalization's Mean / InvStdDev outputs are not supported (only Y may be used)")
    x = node.input[0]
    shape = imp.shape(x)
    rank = len(shape)
    axis = int(imp.attr(node, "axis", -1))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        imp.fail(f"axis {imp.attr(node, 'axis', -1)} is out of range for rank {rank}")
    axes = [axis] if imp.attr(node, "edgenn_single_axis", 0) else list(range(axis, rank))
    eps = float(imp.attr(node, "epsilon", 1e-5))
    out = node.output[0]
    reduced = tuple(1 if i in axes else d for i, d in enumerate(shape))
    xs = imp.get(x)

    def tensor(step: str, shp) -> str:
        return imp.g.add_tensor(imp.g.unique(f"{out}_{step}"), tuple(shp), origin=f"{out}{IR_ORIGIN}{step}").name

    def const(input_index: int) -> np.ndarray | None:
        if len(node.input) <= input_index or not node.input[input_index]:
            return None
        c = np.asarray(imp.const(node.input[input_index]), np.float64)
        return c.reshape((1,) * (rank - c.ndim) + c.shape) if c.ndim <= rank else imp.fail("scale/bias rank too high")

    scale, bias = const(1), const(2)
    scale = None if scale is not None and np.all(scale == 1.0) else scale
    bias = None if bias is not None and np.all(bias == 0.0) else bias
    m, d, q, v, r = (tensor(s, shp) for s, shp in (("mean", reduced), ("centered", shape), ("squares", shape),
                                                    ("variance", reduced), ("rsqrt", reduced)))
    imp.add("mean", [xs], [m], axes=axes, keep_dims=True)
    imp.add("sub", [xs, m], [d], act=(None, None))
    imp.add("squared_difference", [xs, m], [q])
    imp.add("mean", [q], [v], axes=axes, keep_dims=True)
    imp.add("lut", [v], [r], function="rsqrt", eps=eps)
    steps = [("mul", r, None)] + ([("mul", None, scale)] if scale is not None else []) + \
        ([("add", None, bias)] if bias is not None else [])
    cur = d
    for k, (kind, other, c) in enumerate(steps):
        last = k == len(steps) - 1
        # The input's shape where inference has none (a fused node of an opset before 17).
        y = imp.new_output(out, shape=imp.shapes.get(out, shape)) if last else \
            tensor("normalized" if k == 0 else "scaled", shape)
        b = other if other is not None else imp.g.add_const(f"{out}_{'scale' if kind == 'mul' else 'bias'}",
                                                            np.asarray(c, np.float32)).name
        imp.add(kind, [cur, b], [y], act=(None, None))
        cur = y


COMPOSITE = {"LayerNormalization": layer_norm}
