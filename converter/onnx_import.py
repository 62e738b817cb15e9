"""Import a float ONNX model into the float Graph IR (NHWC inside).

Every ONNX value is held as an IR tensor together with the permutation that maps the ONNX
layout to the stored one (``internal = onnx.transpose(perm)``). Image operators ask for their
input in NHWC, layout-agnostic ones (Reshape, Flatten, Gemm...) in the ONNX layout; when a
tensor is not in the requested layout a ``transpose`` is inserted (constants are transposed
directly), and later passes cancel or fold the transposes. Subgraphs that only compute on
constants (shape arithmetic from PyTorch exports) are evaluated with ONNX's reference
evaluator at import time.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import onnx
from onnx import numpy_helper

from edgenn.converter.graph import Graph, IOInfo
from edgenn.errors import DataError, ModelFormatError, UnsupportedOpError, read_file

NCHW_TO_NHWC = (0, 2, 3, 1)
NCL_TO_NLC = (0, 2, 1)
MIN_OPSET, MAX_OPSET = 7, 25
IMAGE_OPS = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization"}
IGNORED_DOMAINS = {"", "ai.onnx"}


def _perm_inverse(p: tuple[int, ...]) -> tuple[int, ...]:
    inv = [0] * len(p)
    for i, a in enumerate(p):
        inv[a] = i
    return tuple(inv)


def _compose(p: tuple[int, ...], q: tuple[int, ...]) -> tuple[int, ...]:
    """Permutation of transpose(transpose(x, p), q)."""
    return tuple(p[i] for i in q)


class Value:
    """An ONNX value as seen by the importer: constant data, or an IR tensor in some layout."""

    def __init__(self, tensor: str | None = None, perm: tuple[int, ...] = (), const: np.ndarray | None = None):
        self.tensor = tensor
        self.perm = perm
        self.const = const


class OnnxImporter:
    def __init__(self, model: onnx.ModelProto, source: str, input_shapes: dict[str, tuple[int, ...]] | None = None):
        self.model = model
        self.source = source
        self.input_shapes = input_shapes or {}
        self.g = Graph()
        self.values: dict[str, Value] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.layout_cache: dict[tuple[str, tuple[int, ...]], str] = {}
        self.opset = 0
        self.node: onnx.NodeProto | None = None

    # ------------------------------------------------------------------ errors
    def where(self, node: onnx.NodeProto | None = None) -> str:
        n = node or self.node
        if n is None:
            return self.source
        name = n.name or (n.output[0] if n.output else "?")
        return f"{self.source}: node '{name}' ({n.op_type})"

    def fail(self, why: str) -> None:
        raise UnsupportedOpError(f"{self.where()}: {why}")

    # ------------------------------------------------------------------ values
    def shape(self, name: str) -> tuple[int, ...]:
        v = self.values[name]
        if v.const is not None:
            return tuple(v.const.shape)
        return self.shapes[name]

    def is_const(self, name: str) -> bool:
        return bool(name) and name in self.values and self.values[name].const is not None

    def const(self, name: str, what: str = "input") -> np.ndarray:
        if not self.is_const(name):
            self.fail(f"{what} '{name}' must be a constant (computed from initializers only)")
        return self.values[name].const

    def optional_const(self, node: onnx.NodeProto, i: int) -> np.ndarray | None:
        if len(node.input) > i and node.input[i]:
            return self.const(node.input[i])
        return None

    def get(self, name: str, perm: tuple[int, ...] | None = None) -> str:
        """The IR tensor holding ONNX value ``name`` in layout ``perm`` (None: the ONNX layout)."""
        v = self.values[name]
        rank = len(self.shape(name))
        want = tuple(range(rank)) if perm is None else perm
        if v.const is not None:
            key = (name, want)
            if key not in self.layout_cache:
                data = np.ascontiguousarray(np.transpose(v.const, want)) if rank else v.const
                self.layout_cache[key] = self.g.add_const(f"{name}", data.astype(np.float32)
                                                          if data.dtype.kind == "f" else data).name
            return self.layout_cache[key]
        have = v.perm or tuple(range(rank))
        if have == want:
            return v.tensor  # type: ignore[return-value]
        key = (name, want)
        if key not in self.layout_cache:
            # stored = onnx.T(have); wanted = onnx.T(want) = stored.T(inverse(have) o want)
            t = _compose(_perm_inverse(have), want)
            src = self.g.tensors[v.tensor]
            out = self.g.add_tensor(self.g.unique(f"{src.name}_t"), tuple(src.shape[i] for i in t), origin=src.origin)
            self.g.add_op("transpose", f"{out.name}", [v.tensor], [out.name], perm=t)
            self.layout_cache[key] = out.name
        return self.layout_cache[key]

    def layout(self, name: str) -> tuple[int, ...]:
        v = self.values[name]
        return v.perm or tuple(range(len(self.shape(name))))

    def new_output(self, onnx_name: str, perm: tuple[int, ...] | None = None, shape: tuple[int, ...] | None = None) -> str:
        """Create the IR tensor for an ONNX output value, stored in layout ``perm``."""
        s = shape if shape is not None else self.shapes.get(onnx_name)
        if s is None:
            self.fail(f"the shape of '{onnx_name}' could not be inferred")
        rank = len(s)
        p = perm if perm is not None else tuple(range(rank))
        stored = tuple(s[i] for i in p)
        t = self.g.add_tensor(self.g.unique(onnx_name), stored, origin=onnx_name, origin_perm=p)
        self.values[onnx_name] = Value(t.name, p)
        self.shapes[onnx_name] = tuple(s)
        return t.name

    def alias(self, onnx_name: str, src: str) -> None:
        self.values[onnx_name] = self.values[src]
        if src in self.shapes:
            self.shapes[onnx_name] = self.shapes[src]

    def add(self, type_: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        name = (self.node.name if self.node is not None and self.node.name else outputs[0])
        self.g.add_op(type_, self.g.unique(name) if any(op.name == name for op in self.g.ops) else name,
                      inputs, outputs, **attrs)

    # ------------------------------------------------------------------ driver
    def run(self) -> Graph:
        m = self.model
        self.opset = next((o.version for o in m.opset_import if o.domain in IGNORED_DOMAINS), 0)
        if not MIN_OPSET <= self.opset <= MAX_OPSET:
            raise UnsupportedOpError(f"{self.source}: ONNX opset {self.opset} is not supported "
                                     f"(supported {MIN_OPSET}..{MAX_OPSET}, tested 11..21)")
        graph = m.graph
        inits = {i.name for i in graph.initializer}
        for init in graph.initializer:
            arr = numpy_helper.to_array(init)
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
                raise DataError(f"{self.source}: initializer '{init.name}' contains NaN or Inf")
            self.values[init.name] = Value(const=arr)
        self._inputs([i for i in graph.input if i.name not in inits])
        self._infer_shapes()
        for node in graph.node:
            self.node = node
            self._node(node)
        self.node = None
        for o in graph.output:
            if o.name not in self.values:
                raise UnsupportedOpError(f"{self.source}: graph output '{o.name}' is not computed by any node")
            if self.is_const(o.name):
                raise UnsupportedOpError(f"{self.source}: graph output '{o.name}' is a constant")
            v = self.values[o.name]
            self.g.outputs.append(IOInfo(v.tensor, o.name, self.shape(o.name), self.layout(o.name)))
        self.g.toposort()
        self.g.prune()
        return self.g

    def _inputs(self, inputs: list[onnx.ValueInfoProto]) -> None:
        if not inputs:
            raise ModelFormatError(f"{self.source}: the model has no inputs")
        consumers: dict[str, set[str]] = {}
        for node in self.model.graph.node:
            for i in node.input:
                consumers.setdefault(i, set()).add(node.op_type)
        for vi in inputs:
            tt = vi.type.tensor_type
            if tt.elem_type != onnx.TensorProto.FLOAT:
                raise UnsupportedOpError(f"{self.source}: input '{vi.name}' has element type "
                                         f"{onnx.TensorProto.DataType.Name(tt.elem_type)}; only float inputs are supported")
            if vi.name in self.input_shapes:
                shape = tuple(int(d) for d in self.input_shapes[vi.name])
            else:
                dims = []
                for d in tt.shape.dim:
                    if d.HasField("dim_value") and d.dim_value > 0:
                        dims.append(int(d.dim_value))
                    else:
                        dims.append(d.dim_param or "?")
                if any(not isinstance(d, int) for d in dims) or not tt.HasField("shape"):
                    raise DataError(
                        f"{self.source}: input '{vi.name}' has a dynamic shape {dims}; edgenn needs static shapes: "
                        f"re-export with a fixed shape or pass --input-shape {vi.name}=1x...")
                shape = tuple(dims)
            image = bool(consumers.get(vi.name, set()) & IMAGE_OPS)
            perm = NCHW_TO_NHWC if len(shape) == 4 and image else NCL_TO_NLC if len(shape) == 3 and image \
                else tuple(range(len(shape)))
            name = self.new_output(vi.name, perm, shape)
            self.g.inputs.append(IOInfo(name, vi.name, shape, perm))

    def _infer_shapes(self) -> None:
        m = onnx.ModelProto()
        m.CopyFrom(self.model)
        for vi in m.graph.input:
            if vi.name in self.input_shapes:
                dims = vi.type.tensor_type.shape.dim
                for d, v in zip(dims, self.input_shapes[vi.name]):
                    d.Clear()
                    d.dim_value = int(v)
        try:
            m = onnx.shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
        except Exception as e:
            raise ModelFormatError(f"{self.source}: ONNX shape inference failed: {str(e).splitlines()[0]}") from None
        for vi in list(m.graph.value_info) + list(m.graph.output):
            tt = vi.type.tensor_type
            if tt.HasField("shape"):
                dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
                if all(d > 0 for d in dims) or not dims:
                    self.shapes.setdefault(vi.name, tuple(int(d) for d in dims))

    def _node(self, node: onnx.NodeProto) -> None:
        if node.domain not in IGNORED_DOMAINS:
            self.fail(f"operator domain '{node.domain}' is not supported")
        inputs = [i for i in node.input if i]
        for i in inputs:
            if i not in self.values:
                self.fail(f"input '{i}' is not defined before this node")
        if node.op_type == "Constant" or (inputs and all(self.is_const(i) for i in inputs)
                                           and node.op_type not in NO_FOLD):
            self._fold(node)
            return
        if node.op_type in SHAPE_OPS_ON_ACTIVATIONS:
            SHAPE_OPS_ON_ACTIVATIONS[node.op_type](self, node)
            return
        handler = HANDLERS.get(node.op_type)
        if handler is None:
            self.fail(f"operator {node.op_type} is not supported (supported: {', '.join(sorted(HANDLERS))})")
        if any(o and o not in self.shapes for o in node.output[:1]):
            self._infer_node(node)
        handler(self, node)

    def _infer_node(self, node: onnx.NodeProto) -> None:
        """Output shapes of one node from the now-known input shapes and constants.

        The whole-model inference misses shapes that depend on computed constants (pads or
        target shapes built from Shape/Gather/Concat, dynamic inputs fixed by --input-shape).
        """
        inits, ins = [], []
        for i in node.input:
            if not i:
                continue
            v = self.values[i]
            if v.const is not None:
                inits.append(numpy_helper.from_array(np.asarray(v.const), i))
            else:
                ins.append(onnx.helper.make_tensor_value_info(i, onnx.TensorProto.FLOAT, list(self.shape(i))))
        outs = [onnx.helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output if o]
        m = onnx.helper.make_model(onnx.helper.make_graph([node], "one", ins, outs, inits),
                                   opset_imports=[onnx.helper.make_opsetid("", self.opset)])
        try:
            m = onnx.shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
        except Exception:
            return
        for vi in list(m.graph.output) + list(m.graph.value_info):
            tt = vi.type.tensor_type
            if tt.HasField("shape"):
                dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
                if all(d > 0 for d in dims):
                    self.shapes.setdefault(vi.name, tuple(int(d) for d in dims))

    def _fold(self, node: onnx.NodeProto) -> None:
        """Evaluate a node whose inputs are all constant."""
        from onnx.reference import ReferenceEvaluator

        feeds = {i: self.values[i].const for i in node.input if i}
        try:
            ins = [onnx.helper.make_tensor_value_info(i, onnx.helper.np_dtype_to_tensor_dtype(feeds[i].dtype), None)
                   for i in feeds]
            outs = [onnx.helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output if o]
            gm = onnx.helper.make_model(onnx.helper.make_graph([node], "fold", ins, outs),
                                        opset_imports=[onnx.helper.make_opsetid("", self.opset)])
            res = ReferenceEvaluator(gm).run(None, feeds)
        except Exception as e:
            self.fail(f"cannot evaluate on constants ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
        for name, val in zip([o for o in node.output if o], res):
            self.values[name] = Value(const=np.asarray(val))


# ---------------------------------------------------------------------- helpers

def _attr(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else (v or "")


def _spatial_pads(imp: OnnxImporter, node: onnx.NodeProto, in_hw, kernel, strides, dilations, out_hw) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) from pads / auto_pad."""
    auto = _str(_attr(node, "auto_pad", "NOTSET"))
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        res = []
        for i in range(2):
            eff = (kernel[i] - 1) * dilations[i] + 1
            out = -(-in_hw[i] // strides[i])
            total = max((out - 1) * strides[i] + eff - in_hw[i], 0)
            small = total // 2
            res.append((small, total - small) if auto == "SAME_UPPER" else (total - small, small))
        return (res[0][0], res[1][0], res[0][1], res[1][1])
    if auto == "VALID":
        return (0, 0, 0, 0)
    pads = list(_attr(node, "pads", [0, 0, 0, 0]))
    if len(pads) != 4:
        imp.fail(f"pads {pads} are not 2-D")
    if any(p < 0 for p in pads):
        imp.fail(f"negative pads {pads} are not supported")
    top, left, bottom, right = pads[0], pads[1], pads[2], pads[3]
    # ceil_mode / inferred output larger than the floor formula: extend the end padding.
    for i, (lo, hi) in enumerate(((top, bottom), (left, right))):
        eff = (kernel[i] - 1) * dilations[i] + 1
        need = (out_hw[i] - 1) * strides[i] + eff - in_hw[i] - lo
        if need > hi:
            if i == 0:
                bottom = need
            else:
                right = need
    return (top, left, bottom, right)


def _act_of(lo: float | None, hi: float | None) -> tuple[float | None, float | None]:
    return (lo, hi)


# ---------------------------------------------------------------------- handlers

def _one_d_as_two_d(handler: Callable[[OnnxImporter, onnx.NodeProto], None]) -> Callable[[OnnxImporter, onnx.NodeProto], None]:
    """Run a 2-D image handler on a 1-D (N, C, L) node as (N, C, 1, L).

    The 3-D tensors are stored (N, L, C), so the reshapes to and from (N, 1, L, C) move no
    bytes (they become aliases); weights (Co, Ci, K) become (Co, Ci, 1, K).
    """
    def wrapped(imp: OnnxImporter, node: onnx.NodeProto) -> None:
        if len(imp.shape(node.input[0])) != 3:
            handler(imp, node)
            return
        n, c, length = imp.shape(node.input[0])
        x3 = imp.get(node.input[0], NCL_TO_NLC)
        x4_name = node.input[0] + "#2d"
        # The same values as the 1-D ONNX tensor: calibration and layer comparisons read them there.
        x4 = imp.g.add_tensor(imp.g.unique(x4_name), (n, 1, length, c), origin=node.input[0], origin_perm=NCL_TO_NLC)
        imp.g.add_op("reshape", x4.name, [x3], [x4.name])
        imp.values[x4_name] = Value(x4.name, NCHW_TO_NHWC)
        imp.shapes[x4_name] = (n, c, 1, length)
        two = onnx.NodeProto()
        two.CopyFrom(node)
        two.input[0] = x4_name
        if node.op_type == "Conv":
            w = imp.const(node.input[1], "weight")
            imp.values[node.input[1] + "#2d"] = Value(const=w.reshape(w.shape[0], w.shape[1], 1, w.shape[2]))
            two.input[1] = node.input[1] + "#2d"
        widen = {"kernel_shape": lambda v: [1] + list(v), "strides": lambda v: [1] + list(v),
                 "dilations": lambda v: [1] + list(v), "pads": lambda v: [0, v[0], 0, v[1]]}
        for a in two.attribute:
            if a.name in widen:
                vals = widen[a.name](list(onnx.helper.get_attribute_value(a)))
                a.CopyFrom(onnx.helper.make_attribute(a.name, vals))
        y3_name = node.output[0]
        no, co, lo = imp.shapes[y3_name]
        two.output[0] = y3_name + "#2d"
        imp.shapes[two.output[0]] = (no, co, 1, lo)
        handler(imp, two)
        y4 = imp.values[two.output[0]].tensor
        y3 = imp.new_output(y3_name, NCL_TO_NLC)
        imp.g.tensors[y4].origin, imp.g.tensors[y4].origin_perm = y3_name, NCL_TO_NLC
        imp.g.add_op("reshape", y3, [y4], [y3])
    return wrapped



def _conv(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    x_shape = imp.shape(node.input[0])
    if len(x_shape) != 4:
        imp.fail(f"only 1-D and 2-D convolution (3-D or 4-D input) is supported, input has rank {len(x_shape)}")
    w = imp.const(node.input[1], "weight").astype(np.float32)
    b = imp.optional_const(node, 2)
    co, ci_g, kh, kw = w.shape
    ci = x_shape[1]
    group = int(_attr(node, "group", 1))
    strides = tuple(_attr(node, "strides", [1, 1]))
    dil = tuple(_attr(node, "dilations", [1, 1]))
    out_shape = imp.shapes.get(node.output[0])
    if out_shape is None:
        imp.fail("output shape could not be inferred")
    pads = _spatial_pads(imp, node, x_shape[2:], (kh, kw), strides, dil, out_shape[2:])
    x = imp.get(node.input[0], NCHW_TO_NHWC)
    y = imp.new_output(node.output[0], NCHW_TO_NHWC)
    bias = [imp.g.add_const(f"{node.output[0]}_bias", b.astype(np.float32)).name] if b is not None else []
    if group > 1 and group == ci and ci_g == 1:
        mult = co // ci
        wt = np.ascontiguousarray(np.transpose(w, (1, 2, 3, 0)))  # (1, KH, KW, Ci*mult)
        wn = imp.g.add_const(f"{node.output[0]}_weights", wt).name
        imp.add("depthwise_conv2d", [x, wn] + bias, [y], stride=strides, dilation=dil, pads=pads,
                depth_multiplier=mult, act=(None, None))
    else:
        if ci != ci_g * group:
            imp.fail(f"weight shape {list(w.shape)} does not match {ci} input channels in {group} groups")
        wt = np.ascontiguousarray(np.transpose(w, (0, 2, 3, 1)))  # (Co, KH, KW, Ci/g)
        wn = imp.g.add_const(f"{node.output[0]}_weights", wt).name
        imp.add("conv2d", [x, wn] + bias, [y], stride=strides, dilation=dil, pads=pads, groups=group,
                act=(None, None))


def _fc(imp: OnnxImporter, node: onnx.NodeProto, x_name: str, w_units_k: np.ndarray, bias: np.ndarray | None,
        out_name: str) -> None:
    x = imp.get(x_name)
    wn = imp.g.add_const(f"{out_name}_weights", np.ascontiguousarray(w_units_k, dtype=np.float32)).name
    ins = [x, wn]
    if bias is not None:
        ins.append(imp.g.add_const(f"{out_name}_bias", np.asarray(bias, np.float32)).name)
    y = imp.new_output(out_name)
    imp.add("fully_connected", ins, [y], act=(None, None))


def _gemm(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    if len(imp.shape(node.input[0])) != 2:
        imp.fail("Gemm input must be 2-D")
    x = node.input[0]
    if _attr(node, "transA", 0):
        # A transposed: a transpose op, then the ordinary fully connected layer
        t = imp.get(x)
        m, k = imp.shape(x)
        xt = imp.g.add_tensor(imp.g.unique(x + "_T"), (k, m), origin=None)
        imp.add("transpose", [t], [xt.name], perm=(1, 0))
        x = x + "#T"
        imp.values[x] = Value(xt.name, (0, 1))
        imp.shapes[x] = (k, m)
    b = imp.const(node.input[1], "B").astype(np.float64)
    w = b if _attr(node, "transB", 0) else b.T  # (units, K)
    w = w * float(_attr(node, "alpha", 1.0))
    c = imp.optional_const(node, 2)
    units = w.shape[0]
    bias = None
    extra = None
    if c is not None:
        c = np.asarray(c, np.float64) * float(_attr(node, "beta", 1.0))
        if c.size == 1:
            bias = np.full(units, float(c.reshape(-1)[0]))
        elif c.size == units:
            bias = c.reshape(-1)
        else:
            extra = c  # a full matrix: added after the product
    if extra is None:
        _fc(imp, node, x, w, bias, node.output[0])
        return
    mid = node.output[0] + "#product"
    imp.shapes[mid] = imp.shapes[node.output[0]]
    _fc(imp, node, x, w, None, mid)
    imp.g.tensors[imp.values[mid].tensor].origin = None  # no ONNX value: range derived from the add
    y = imp.new_output(node.output[0])
    cc = imp.g.add_const(f"{node.output[0]}_bias", _channel_const(imp, extra, mid).astype(np.float32)).name
    imp.add("add", [imp.get(mid), cc], [y], act=(None, None))


def _matmul(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    if not imp.is_const(node.input[1]):
        imp.fail("MatMul with a non-constant right operand is not supported")
    b = imp.const(node.input[1]).astype(np.float64)
    if b.ndim != 2:
        imp.fail("MatMul weights must be 2-D")
    _fc(imp, node, node.input[0], b.T, None, node.output[0])


def _channel_const(imp: OnnxImporter, c: np.ndarray, x_name: str) -> np.ndarray:
    """A constant broadcast against ONNX value x, rearranged into x's stored layout."""
    rank = len(imp.shape(x_name))
    c = np.asarray(c)
    if c.ndim > rank:
        if all(d == 1 for d in c.shape[:c.ndim - rank]):
            c = c.reshape(c.shape[c.ndim - rank:])
        else:
            imp.fail(f"constant of shape {list(c.shape)} broadcasts to a higher rank than the input")
    c = c.reshape((1,) * (rank - c.ndim) + c.shape)
    return np.ascontiguousarray(np.transpose(c, imp.layout(x_name)))


def _batchnorm(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    if _attr(node, "training_mode", 0) or len([o for o in node.output if o]) > 1:
        imp.fail("BatchNormalization in training mode is not supported (export the model in inference mode)")
    scale, bias, mean, var = (imp.const(node.input[i]).astype(np.float64) for i in range(1, 5))
    eps = float(_attr(node, "epsilon", 1e-5))
    if np.any(var + eps <= 0):
        imp.fail("variance + epsilon must be positive")
    a = scale / np.sqrt(var + eps)
    c = bias - mean * a
    x_shape = imp.shape(node.input[0])
    shape = [1] * len(x_shape)
    shape[1] = -1
    perm = NCHW_TO_NHWC if len(x_shape) == 4 else NCL_TO_NLC if len(x_shape) == 3 else None
    x = imp.get(node.input[0], perm)
    store = perm or tuple(range(len(x_shape)))
    a_c = np.ascontiguousarray(np.transpose(a.reshape(shape), store)).astype(np.float32)
    c_c = np.ascontiguousarray(np.transpose(c.reshape(shape), store)).astype(np.float32)
    mid = imp.g.add_tensor(imp.g.unique(node.output[0] + "_scaled"), imp.g.tensors[x].shape)
    imp.add("mul", [x, imp.g.add_const(f"{node.output[0]}_a", a_c).name], [mid.name], act=(None, None))
    y = imp.new_output(node.output[0], store)
    imp.add("add", [mid.name, imp.g.add_const(f"{node.output[0]}_c", c_c).name], [y], act=(None, None))


def _binary(kind: str) -> Callable[[OnnxImporter, onnx.NodeProto], None]:
    def handler(imp: OnnxImporter, node: onnx.NodeProto) -> None:
        a, b = node.input[0], node.input[1]
        ca, cb = imp.is_const(a), imp.is_const(b)
        op = kind
        if ca and not cb and op in ("add", "mul"):
            a, b, ca, cb = b, a, cb, ca
        if cb:
            c = imp.const(b).astype(np.float64)
            if not np.all(np.isfinite(c)):
                raise DataError(f"{imp.where()}: constant contains NaN or Inf")
            if op == "sub":
                c, op = -c, "add"
            elif op == "div":
                if np.any(c == 0):
                    imp.fail("division by a constant containing zero")
                c, op = 1.0 / c, "mul"
            if op not in ("add", "mul"):
                imp.fail(f"{node.op_type} with a constant first operand is not supported")
            out_rank = len(imp.shapes[node.output[0]])
            if len(imp.shape(a)) != out_rank:
                imp.fail("the constant operand broadcasts the activation to a higher rank")
            x = imp.get(a, imp.layout(a))
            cc = imp.g.add_const(f"{node.output[0]}_const", _channel_const(imp, c, a).astype(np.float32)).name
            y = imp.new_output(node.output[0], imp.layout(a))
            imp.add(op, [x, cc], [y], act=(None, None))
            return
        if op not in ("add", "mul"):
            imp.fail(f"{node.op_type} of two activations is not supported")
        ra, rb = len(imp.shape(a)), len(imp.shape(b))
        if ra != rb:
            imp.fail("operands of different rank are not supported")
        lay = imp.layout(a)
        xa, xb = imp.get(a, lay), imp.get(b, lay)
        y = imp.new_output(node.output[0], lay)
        imp.add(op, [xa, xb], [y], act=(None, None))
    return handler


def _relu(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    _clip_to(imp, node, 0.0, None)


def _clip(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    if imp.opset < 11:
        lo, hi = _attr(node, "min", None), _attr(node, "max", None)
    else:
        lo_c, hi_c = imp.optional_const(node, 1), imp.optional_const(node, 2)
        lo = None if lo_c is None else float(np.asarray(lo_c).reshape(-1)[0])
        hi = None if hi_c is None else float(np.asarray(hi_c).reshape(-1)[0])
    if lo is not None and hi is not None and lo > hi:
        lo = hi  # ONNX: min(max(x, lo), hi) is hi everywhere
    _clip_to(imp, node, lo, hi)


def _clip_to(imp: OnnxImporter, node: onnx.NodeProto, lo: float | None, hi: float | None) -> None:
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    y = imp.new_output(node.output[0], lay)
    imp.add("clip", [x], [y], act=(lo, hi))


def _sigmoid(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    y = imp.new_output(node.output[0], lay)
    imp.add("logistic", [x], [y])


def _unary(kind: str) -> Callable[[OnnxImporter, onnx.NodeProto], None]:
    """An elementwise activation in the input's own layout: Tanh, LeakyRelu (attr alpha,
    default 0.01), HardSwish (opset 14+: x * max(0, min(1, x / 6 + 1 / 2)), TFLite's hard swish)."""
    def handler(imp: OnnxImporter, node: onnx.NodeProto) -> None:
        attrs: dict[str, Any] = {}
        if kind == "leaky_relu":
            attrs["alpha"] = float(_attr(node, "alpha", 0.01))
        if kind == "hard_swish" and imp.opset < 14:
            imp.fail(f"HardSwish needs opset 14 or later (the model declares {imp.opset})")
        lay = imp.layout(node.input[0])
        x = imp.get(node.input[0], lay)
        y = imp.new_output(node.output[0], lay)
        imp.add(kind, [x], [y], **attrs)
    return handler


def _softmax(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    shape = imp.shape(node.input[0])
    rank = len(shape)
    default = -1 if imp.opset >= 13 else 1
    axis = int(_attr(node, "axis", default)) % rank
    if imp.opset < 13 and any(d != 1 for d in shape[axis + 1:]):
        imp.fail("Softmax (opset < 13) over several flattened axes is not supported")
    if imp.opset < 13:
        axis = max(i for i in range(axis, rank) if i == axis or shape[i] != 1) if rank else 0
    # Put the softmax axis last: keep the stored layout when it already is.
    lay = imp.layout(node.input[0])
    if lay[-1] != axis:
        lay = tuple(i for i in range(rank) if i != axis) + (axis,)
    x = imp.get(node.input[0], lay)
    y = imp.new_output(node.output[0], lay)
    imp.add("softmax", [x], [y], beta=1.0)


def _pool(kind: str) -> Callable[[OnnxImporter, onnx.NodeProto], None]:
    def handler(imp: OnnxImporter, node: onnx.NodeProto) -> None:
        x_shape = imp.shape(node.input[0])
        if len(x_shape) != 4:
            imp.fail("only 1-D and 2-D pooling is supported")
        if len([o for o in node.output if o]) > 1:
            imp.fail("MaxPool indices output is not supported")
        kernel = tuple(_attr(node, "kernel_shape"))
        strides = tuple(_attr(node, "strides", [1, 1]))
        dil = tuple(_attr(node, "dilations", [1, 1]))
        if dil != (1, 1):
            imp.fail("dilated pooling is not supported")
        out_shape = imp.shapes[node.output[0]]
        pads = _spatial_pads(imp, node, x_shape[2:], kernel, strides, dil, out_shape[2:])
        x = imp.get(node.input[0], NCHW_TO_NHWC)
        if kind == "avg_pool2d" and _attr(node, "count_include_pad", 0) and any(pads):
            explicit = list(_attr(node, "pads", [0, 0, 0, 0]))
            if _str(_attr(node, "auto_pad", "NOTSET")) not in ("NOTSET", "") or tuple(explicit) != pads:
                imp.fail("count_include_pad with auto_pad or ceil_mode is not supported")
            padded = imp.g.add_tensor(imp.g.unique(node.output[0] + "_padded"),
                                      (1, x_shape[2] + pads[0] + pads[2], x_shape[3] + pads[1] + pads[3], x_shape[1]),
                                      origin=None)
            imp.add("pad", [x], [padded.name], pads=[(0, 0), (pads[0], pads[2]), (pads[1], pads[3]), (0, 0)], value=0.0)
            x, pads = padded.name, (0, 0, 0, 0)
            imp.g.tensors[x].origin = f"{node.output[0]}#pad_input:{node.input[0]}"
        y = imp.new_output(node.output[0], NCHW_TO_NHWC)
        imp.add(kind, [x], [y], filter=kernel, stride=strides, pads=pads, act=(None, None))
    return handler


def _global_pool(kind: str) -> Callable[[OnnxImporter, onnx.NodeProto], None]:
    def handler(imp: OnnxImporter, node: onnx.NodeProto) -> None:
        x_shape = imp.shape(node.input[0])
        if len(x_shape) != 4:
            imp.fail("only 1-D and 2-D global pooling is supported")
        x = imp.get(node.input[0], NCHW_TO_NHWC)
        y = imp.new_output(node.output[0], NCHW_TO_NHWC)
        if kind == "mean":
            imp.add("mean", [x], [y], axes=[1, 2], keep_dims=True)
        else:
            imp.add("max_pool2d", [x], [y], filter=tuple(x_shape[2:]), stride=(1, 1), pads=(0, 0, 0, 0),
                    act=(None, None))
    return handler


def _reduce_mean(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    shape = imp.shape(node.input[0])
    rank = len(shape)
    axes = _attr(node, "axes", None)
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = imp.const(node.input[1]).reshape(-1).tolist()
    if not axes:
        if _attr(node, "noop_with_empty_axes", 0):
            imp.alias(node.output[0], node.input[0])
            return
        axes = list(range(rank))
    axes = sorted({int(a) % rank for a in axes})
    keep = bool(_attr(node, "keepdims", 1))
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    if keep:
        out_lay = lay
    else:
        # Reduce in the stored layout; the remaining axes keep their stored order (renumbered).
        out_lay = tuple(a - sum(1 for r in axes if r < a) for a in lay if a not in axes)
    y = imp.new_output(node.output[0], out_lay)
    imp.add("mean", [x], [y], axes=[lay.index(a) for a in axes], keep_dims=keep)


def _reshape_like(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    """Reshape, Flatten, Squeeze, Unsqueeze on activations: a reshape in the ONNX layout."""
    out_shape = imp.shapes.get(node.output[0])
    if out_shape is None:
        imp.fail("output shape could not be inferred")
    x = imp.get(node.input[0])
    y = imp.new_output(node.output[0])
    imp.add("reshape", [x], [y])


def _transpose(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    rank = len(imp.shape(node.input[0]))
    perm = tuple(_attr(node, "perm", list(range(rank))[::-1]))
    # output (onnx) = x_onnx.T(perm): store it as x's stored data re-labelled, no data movement.
    have = imp.layout(node.input[0])
    v = imp.values[node.input[0]]
    new_layout = _compose(_perm_inverse(perm), have)
    imp.values[node.output[0]] = type(v)(v.tensor, new_layout)
    imp.shapes[node.output[0]] = tuple(imp.shape(node.input[0])[p] for p in perm)


def _concat(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    names = [n for n in node.input if n]
    rank = len(imp.shape(names[0]))
    axis = int(_attr(node, "axis")) % rank
    act = next((n for n in names if not imp.is_const(n)), names[0])
    lay = imp.layout(act)
    xs = [imp.get(n, lay) for n in names]
    y = imp.new_output(node.output[0], lay)
    imp.add("concat", xs, [y], axis=lay.index(axis))


def _pad(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    mode = _str(_attr(node, "mode", "constant"))
    if mode != "constant":
        imp.fail(f"Pad mode '{mode}' is not supported (only constant)")
    rank = len(imp.shape(node.input[0]))
    if imp.opset < 11:
        pads = list(_attr(node, "pads"))
        value = float(_attr(node, "value", 0.0))
    else:
        pads = imp.const(node.input[1]).reshape(-1).tolist()
        cv = imp.optional_const(node, 2)
        value = 0.0 if cv is None else float(np.asarray(cv).reshape(-1)[0])
        if len(node.input) > 3 and node.input[3]:
            axes = [int(a) % rank for a in imp.const(node.input[3]).reshape(-1)]
            full = [0] * (2 * rank)
            for k, a in enumerate(axes):
                full[a], full[a + rank] = pads[k], pads[k + len(axes)]
            pads = full
    if any(p < 0 for p in pads):
        imp.fail("negative pads (cropping) are not supported")
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    y = imp.new_output(node.output[0], lay)
    imp.add("pad", [x], [y], pads=[(int(pads[a]), int(pads[a + rank])) for a in lay], value=value)


def _identity(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    if node.op_type == "Dropout":
        training = imp.optional_const(node, 2)
        if training is not None and bool(np.asarray(training).reshape(-1)[0]):
            imp.fail("Dropout in training mode is random; export the model in inference mode (model.eval())")
        if len(node.output) > 1 and node.output[1]:
            imp.fail("Dropout's mask output is not supported (export the model in inference mode)")
    imp.alias(node.output[0], node.input[0])


def _cast(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    to = int(_attr(node, "to"))
    if to not in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16):
        imp.fail("casting activations to a non-float type is not supported")
    imp.alias(node.output[0], node.input[0])


def _shape_op(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    """Shape / Size of an activation: known statically, so a constant."""
    shape = np.asarray(imp.shape(node.input[0]), np.int64)
    if node.op_type == "Size":
        val = np.asarray(int(np.prod(shape)), np.int64)
    else:
        start = _attr(node, "start", 0)
        end = _attr(node, "end", None)
        val = shape[start:end]
    imp.values[node.output[0]] = Value(const=val)


NO_FOLD: set[str] = set()
SHAPE_OPS_ON_ACTIVATIONS = {"Shape": _shape_op, "Size": _shape_op}

HANDLERS: dict[str, Callable[[OnnxImporter, onnx.NodeProto], None]] = {
    "Conv": _one_d_as_two_d(_conv),
    "Gemm": _gemm,
    "MatMul": _matmul,
    "BatchNormalization": _batchnorm,
    "Relu": _relu,
    "Clip": _clip,
    "Sigmoid": _sigmoid,
    "Tanh": _unary("tanh"),
    "LeakyRelu": _unary("leaky_relu"),
    "HardSwish": _unary("hard_swish"),
    "Softmax": _softmax,
    "MaxPool": _one_d_as_two_d(_pool("max_pool2d")),
    "AveragePool": _one_d_as_two_d(_pool("avg_pool2d")),
    "GlobalAveragePool": _one_d_as_two_d(_global_pool("mean")),
    "GlobalMaxPool": _one_d_as_two_d(_global_pool("max")),
    "ReduceMean": _reduce_mean,
    "Add": _binary("add"),
    "Sub": _binary("sub"),
    "Mul": _binary("mul"),
    "Div": _binary("div"),
    "Flatten": _reshape_like,
    "Reshape": _reshape_like,
    "Squeeze": _reshape_like,
    "Unsqueeze": _reshape_like,
    "Transpose": _transpose,
    "Concat": _concat,
    "Pad": _pad,
    "Identity": _identity,
    "Dropout": _identity,
    "Cast": _cast,
}


def load_onnx(path: str | Path) -> tuple[onnx.ModelProto, bytes]:
    p = Path(path)
    data = read_file(p)
    if not data:
        raise ModelFormatError(f"{p}: empty file")
    try:
        model = onnx.load_model_from_string(data)
    except Exception:
        raise ModelFormatError(f"{p}: not a valid ONNX file (protobuf parse failed: corrupt or truncated?)") from None
    if not model.graph.node:
        raise ModelFormatError(f"{p}: not a valid ONNX model (the graph has no nodes)")
    if any(i.data_location == onnx.TensorProto.EXTERNAL for i in model.graph.initializer):
        try:
            onnx.load_external_data_for_model(model, str(p.parent))
        except Exception as e:
            raise ModelFormatError(f"{p}: cannot load external weight data ({e})") from None
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise ModelFormatError(f"{p}: invalid ONNX model: {str(e).splitlines()[0]}") from None
    return model, data


def import_onnx(path: str | Path, input_shapes: dict[str, tuple[int, ...]] | None = None) -> tuple[Graph, onnx.ModelProto]:
    """Load and import; returns the float graph and the ONNX model (for calibration)."""
    model, data = load_onnx(path)
    g = OnnxImporter(model, str(path), input_shapes).run()
    g.source_format = "onnx"
    g.source_file = str(path)
    g.source_sha256 = hashlib.sha256(data).hexdigest()
    return g, model
