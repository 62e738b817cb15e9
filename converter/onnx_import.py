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
import math
from pathlib import Path
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import onnx
from onnx import numpy_helper

from edgenn import limits
from edgenn.converter.graph import Graph, IOInfo
from edgenn.converter.onnx_patterns import COMPOSITE, fuse
from edgenn.errors import (UNFORESEEN, DataError, EdgennError, ModelFormatError, UnsupportedOpError, note, read_file,
                           unforeseen, unsupported_operators)
from edgenn.progress import track

NCHW_TO_NHWC = (0, 2, 3, 1)
NCL_TO_NLC = (0, 2, 1)
MIN_OPSET, MAX_OPSET = 7, 25
IMAGE_OPS = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization",
             "ConvTranspose", "Resize", "Upsample"}
IGNORED_DOMAINS = {"", "ai.onnx"}
INTEGER_INPUTS = (onnx.TensorProto.INT64, onnx.TensorProto.INT32)  # indices, imported as int32


def perm_inverse(p: tuple[int, ...]) -> tuple[int, ...]:
    inv = [0] * len(p)
    for i, a in enumerate(p):
        inv[a] = i
    return tuple(inv)


def compose(p: tuple[int, ...], q: tuple[int, ...]) -> tuple[int, ...]:
    """Permutation of transpose(transpose(x, p), q)."""
    return tuple(p[i] for i in q)


class Value:
    """An ONNX value as seen by the importer: constant data, or an IR tensor in some layout."""

    def __init__(self, tensor: str | None = None, perm: tuple[int, ...] = (), const: np.ndarray | None = None):
        self.tensor = tensor
        self.perm = perm
        self.const = const


#: Inputs that describe a shape, repeats or sizes (by position): constants there are checked against
#: the tensor limit before shape inference.
SHAPE_OPERANDS = {"Reshape": (1,), "Expand": (1,), "Tile": (1,), "ConstantOfShape": (0,), "Resize": (3,),
                  "Pad": (1,), "Upsample": (1,)}


class OnnxImporter:
    """Imports one ONNX graph. Operator rules' ``ONNX`` handlers get this object and build the IR with
    its methods (values, layouts, attributes, the shared patterns of several operators)."""

    NHWC = NCHW_TO_NHWC  # stored layout of 4-D image tensors: internal = onnx.transpose(NHWC)
    NLC = NCL_TO_NLC  # ... of 3-D (N, C, L) tensors read by image operators
    compose = staticmethod(compose)
    perm_inverse = staticmethod(perm_inverse)

    def __init__(self, model: onnx.ModelProto, source: str, input_shapes: dict[str, tuple[int, ...]] | None = None,
                 streaming: bool = False):
        self.model = model
        self.source = source
        self.input_shapes = dict(input_shapes or {})
        self.streaming = streaming  # --stateful: --input-shape may cut a fixed sequence axis into chunks
        self.g = Graph()
        self.values: dict[str, Value] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.layout_cache: dict[tuple[str, tuple[int, ...]], str] = {}
        self.opset = 0
        self.node: onnx.NodeProto | None = None
        self._op_names: set[str] = set()
        self._named = 0
        self.nodes: list[onnx.NodeProto] = []  # the graph's nodes with recognised patterns fused

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
        v = self.values.get(name)
        if v is not None and v.const is not None:
            return tuple(v.const.shape)
        if name not in self.shapes:
            self.fail(f"the shape of '{name}' is unknown: ONNX shape inference could not infer it (inconsistent "
                      "input shapes or attributes?)")
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
            t = compose(perm_inverse(have), want)
            src = self.g.tensors[v.tensor]
            # the ONNX value `name` in layout `want` (layer comparisons transpose onnxruntime's value so)
            out = self.g.add_tensor(self.g.unique(f"{src.name}_t"), tuple(src.shape[i] for i in t), src.dtype,
                                    origin=name, origin_perm=want)
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
        # The names of the operators so far (only appended to during import), kept up to date here.
        self._op_names.update(op.name for op in self.g.ops[self._named:])
        self._named = len(self.g.ops)
        self.g.add_op(type_, self.g.unique(name) if name in self._op_names else name, inputs, outputs, **attrs)

    # ------------------------------------------------------------------ for the operators' handlers
    @staticmethod
    def attr(node: onnx.NodeProto, name: str, default: Any = None) -> Any:
        """A node attribute's value (strings as bytes), or ``default``."""
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    @staticmethod
    def attr_str(node: onnx.NodeProto, name: str, default: str = "") -> str:
        v = OnnxImporter.attr(node, name, default)
        return v.decode() if isinstance(v, bytes) else (v or "")

    def used_outputs(self, node: onnx.NodeProto) -> set[str]:
        """The outputs of ``node`` that another node reads or that are graph outputs."""
        read = {i for n in self.model.graph.node for i in n.input} | {o.name for o in self.model.graph.output}
        return {o for o in node.output if o and o in read}

    def relabel(self, onnx_name: str, tensor: str, perm: tuple[int, ...], shape: tuple[int, ...]) -> None:
        """Make ONNX value ``onnx_name`` (of ``shape``) be IR tensor ``tensor`` stored in layout ``perm``."""
        self.values[onnx_name] = Value(tensor, perm)
        self.shapes[onnx_name] = tuple(shape)

    def elementwise(self, node: onnx.NodeProto, type_: str, **attrs: Any) -> None:
        """A one-input operator computed in its input's stored layout (activations)."""
        lay = self.layout(node.input[0])
        x = self.get(node.input[0], lay)
        y = self.new_output(node.output[0], lay)
        self.add(type_, [x], [y], **attrs)

    def spatial_pads(self, node: onnx.NodeProto, in_hw, kernel, strides, dilations,
                     out_hw) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of a 2-D window operator from pads / auto_pad; an inferred
        output larger than the floor formula (ceil_mode) extends the bottom/right padding."""
        auto = self.attr_str(node, "auto_pad", "NOTSET")
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
        pads = list(self.attr(node, "pads", [0, 0, 0, 0]))
        if len(pads) != 4:
            self.fail(f"pads {pads} are not 2-D")
        if any(p < 0 for p in pads):
            self.fail(f"negative pads {pads} are not supported")
        top, left, bottom, right = pads[0], pads[1], pads[2], pads[3]
        for i, (lo, hi) in enumerate(((top, bottom), (left, right))):
            eff = (kernel[i] - 1) * dilations[i] + 1
            need = (out_hw[i] - 1) * strides[i] + eff - in_hw[i] - lo
            if need > hi:
                if i == 0:
                    bottom = need
                else:
                    right = need
        return (top, left, bottom, right)

    def as_2d(self, node: onnx.NodeProto, handler: Callable[["OnnxImporter", onnx.NodeProto], None]) -> None:
        """Run a 2-D image handler; a 1-D (N, C, L) node runs as (N, C, 1, L).

        The 3-D tensors are stored (N, L, C), so the reshapes to and from (N, 1, L, C) move no
        bytes (they become aliases); weights (Co, Ci, K) become (Co, Ci, 1, K).
        """
        if len(self.shape(node.input[0])) != 3:
            handler(self, node)
            return
        n, c, length = self.shape(node.input[0])
        x3 = self.get(node.input[0], NCL_TO_NLC)
        x4_name = node.input[0] + "#2d"
        # The same values as the 1-D ONNX tensor: calibration and layer comparisons read them there.
        x4 = self.g.add_tensor(self.g.unique(x4_name), (n, 1, length, c), origin=node.input[0], origin_perm=NCL_TO_NLC)
        self.g.add_op("reshape", x4.name, [x3], [x4.name])
        self.relabel(x4_name, x4.name, NCHW_TO_NHWC, (n, c, 1, length))
        two = onnx.NodeProto()
        two.CopyFrom(node)
        two.input[0] = x4_name
        if node.op_type in ("Conv", "ConvTranspose"):  # (Co, Ci, K) or (Ci, Co, K): K becomes (1, K)
            w = self.const(node.input[1], "weight")
            self.values[node.input[1] + "#2d"] = Value(const=w.reshape(w.shape[0], w.shape[1], 1, w.shape[2]))
            two.input[1] = node.input[1] + "#2d"
        widen = {"kernel_shape": lambda v: [1] + list(v), "strides": lambda v: [1] + list(v),
                 "dilations": lambda v: [1] + list(v), "pads": lambda v: [0, v[0], 0, v[1]],
                 "output_padding": lambda v: [0] + list(v), "output_shape": lambda v: [1] + list(v)}
        for a in two.attribute:
            if a.name in widen:
                vals = widen[a.name](list(onnx.helper.get_attribute_value(a)))
                a.CopyFrom(onnx.helper.make_attribute(a.name, vals))
        y3_name = node.output[0]
        no, co, lo = self.shapes[y3_name]
        two.output[0] = y3_name + "#2d"
        self.shapes[two.output[0]] = (no, co, 1, lo)
        handler(self, two)
        y4 = self.values[two.output[0]].tensor
        y3 = self.new_output(y3_name, NCL_TO_NLC)
        self.g.tensors[y4].origin, self.g.tensors[y4].origin_perm = y3_name, NCL_TO_NLC
        self.g.add_op("reshape", y3, [y4], [y3])

    def channel_const(self, c: np.ndarray, x_name: str) -> np.ndarray:
        """A constant broadcast against ONNX value x, rearranged into x's stored layout."""
        rank = len(self.shape(x_name))
        c = np.asarray(c)
        if c.ndim > rank:
            if all(d == 1 for d in c.shape[:c.ndim - rank]):
                c = c.reshape(c.shape[c.ndim - rank:])
            else:
                self.fail(f"constant of shape {list(c.shape)} broadcasts to a higher rank than the input")
        c = c.reshape((1,) * (rank - c.ndim) + c.shape)
        return np.ascontiguousarray(np.transpose(c, self.layout(x_name)))

    def binary(self, node: onnx.NodeProto, kind: str) -> None:
        """Add / Sub / Mul / Div: add or mul of two activations in one layout, or of an activation
        and a constant (Sub becomes an add of the negated constant, Div a mul by its reciprocal)."""
        a, b = node.input[0], node.input[1]
        ca, cb = self.is_const(a), self.is_const(b)
        shapes = [tuple(self.const(n).shape) if self.is_const(n) else self.shapes.get(n) for n in (a, b)]
        if None not in shapes:
            try:
                np.broadcast_shapes(*shapes)
            except ValueError:
                self.fail(f"operands of shapes {shapes[0]} and {shapes[1]} do not broadcast; with a fixed input "
                          "shape (--input-shape), a network that downsamples and upsamples again may need sizes "
                          "divisible by its total stride")
        op = kind
        if ca and not cb and op in ("add", "mul"):
            a, b, ca, cb = b, a, cb, ca
        if cb:
            c = self.const(b).astype(np.float64)
            if not np.all(np.isfinite(c)):
                raise DataError(f"{self.where()}: constant contains NaN or Inf")
            if op == "sub":
                c, op = -c, "add"
            elif op == "div":
                if np.any(c == 0):
                    self.fail("division by a constant containing zero")
                c, op = 1.0 / c, "mul"
            if op not in ("add", "mul"):
                self.fail(f"{node.op_type} with a constant first operand is not supported")
            out_rank = len(self.shapes[node.output[0]])
            if len(self.shape(a)) != out_rank:
                self.fail("the constant operand broadcasts the activation to a higher rank")
            x = self.get(a, self.layout(a))
            cc = self.g.add_const(f"{node.output[0]}_const", self.channel_const(c, a).astype(np.float32)).name
            y = self.new_output(node.output[0], self.layout(a))
            self.add(op, [x, cc], [y], act=(None, None))
            return
        if op not in ("add", "mul"):
            self.fail(f"{node.op_type} of two activations is not supported")
        if len(self.shape(a)) != len(self.shape(b)):
            self.fail("operands of different rank are not supported")
        lay = self.layout(a)
        xa, xb = self.get(a, lay), self.get(b, lay)
        y = self.new_output(node.output[0], lay)
        self.add(op, [xa, xb], [y], act=(None, None))

    def pool(self, node: onnx.NodeProto, kind: str) -> None:
        """MaxPool / AveragePool (2-D; run through ``as_2d`` for 1-D) as max_pool2d / avg_pool2d."""
        x_shape = self.shape(node.input[0])
        if len(x_shape) != 4:
            self.fail("only 1-D and 2-D pooling is supported")
        if len([o for o in node.output if o]) > 1:
            self.fail("MaxPool indices output is not supported")
        kernel = tuple(self.attr(node, "kernel_shape"))
        strides = tuple(self.attr(node, "strides", [1, 1]))
        dil = tuple(self.attr(node, "dilations", [1, 1]))
        if dil != (1, 1):
            self.fail("dilated pooling is not supported")
        out_shape = self.shapes[node.output[0]]
        pads = self.spatial_pads(node, x_shape[2:], kernel, strides, dil, out_shape[2:])
        x = self.get(node.input[0], NCHW_TO_NHWC)
        if kind == "avg_pool2d" and self.attr(node, "count_include_pad", 0) and any(pads):
            explicit = list(self.attr(node, "pads", [0, 0, 0, 0]))
            if self.attr_str(node, "auto_pad", "NOTSET") not in ("NOTSET", "") or tuple(explicit) != pads:
                self.fail("count_include_pad with auto_pad or ceil_mode is not supported")
            padded = self.g.add_tensor(self.g.unique(node.output[0] + "_padded"),
                                       (1, x_shape[2] + pads[0] + pads[2], x_shape[3] + pads[1] + pads[3], x_shape[1]),
                                       origin=None)
            self.add("pad", [x], [padded.name], pads=[(0, 0), (pads[0], pads[2]), (pads[1], pads[3]), (0, 0)],
                     value=0.0)
            x, pads = padded.name, (0, 0, 0, 0)
            self.g.tensors[x].origin = f"{node.output[0]}#pad_input:{node.input[0]}"
        y = self.new_output(node.output[0], NCHW_TO_NHWC)
        self.add(kind, [x], [y], filter=kernel, stride=strides, pads=pads, act=(None, None))


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
            try:
                arr = numpy_helper.to_array(init)
            except Exception as e:  # data that does not match the declared shape or type
                raise ModelFormatError(f"{self.source}: initializer '{init.name}' is damaged ({type(e).__name__})") from None
            if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
                raise DataError(f"{self.source}: initializer '{init.name}' contains NaN or Inf")
            self.values[init.name] = Value(const=arr)
        self._inputs([i for i in graph.input if i.name not in inits])
        self._infer_shapes()
        self.nodes = fuse(list(graph.node), self._constants(), {o.name for o in graph.output})
        self._check_supported()
        for node in track(self.nodes, f"importing {Path(self.source).name}", unit="nodes"):
            self.node = node
            self._guarded_node(node)
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

    def _guarded_node(self, node: onnx.NodeProto) -> None:
        """Import one node; a handler tripping over a node it did not expect (attributes of the wrong
        type or length, inputs of unexpected shapes) becomes a one-line error naming the node instead
        of a traceback. EDGENN_DEBUG=1 keeps the traceback, for a bug in edgenn itself."""
        try:
            self._node(node)
        except EdgennError:
            raise
        except UNFORESEEN as e:
            raise unforeseen(self.where(node), "cannot import this node", "its attributes or inputs", e) from None

    def _inputs(self, inputs: list[onnx.ValueInfoProto]) -> None:
        if not inputs:
            raise ModelFormatError(f"{self.source}: the model has no inputs")
        names = [vi.name for vi in inputs]
        unknown = [k for k in self.input_shapes if k not in names]
        if unknown:
            raise DataError(f"{self.source}: --input-shape {unknown[0]}=...: the model has no input {unknown[0]!r} "
                            f"(its inputs: {', '.join(names)})")
        consumers: dict[str, set[str]] = {}
        for node in self.model.graph.node:
            for i in node.input:
                consumers.setdefault(i, set()).add(node.op_type)
        for vi in inputs:
            tt = vi.type.tensor_type
            if tt.elem_type not in (onnx.TensorProto.FLOAT,) + INTEGER_INPUTS:
                known = tt.elem_type in onnx.TensorProto.DataType.values()
                kind = onnx.TensorProto.DataType.Name(tt.elem_type) if known else f"{tt.elem_type} (not an ONNX type)"
                raise UnsupportedOpError(f"{self.source}: input '{vi.name}' has element type {kind}; only float "
                                         "inputs and int32 / int64 indices (token ids) are supported")
            shape = self._input_shape(vi)
            why = limits.tensor_problem(shape, 4)  # float32 during calibration
            if why:
                raise DataError(f"{self.source}: input '{vi.name}' {why}")
            image = bool(consumers.get(vi.name, set()) & IMAGE_OPS)
            perm = NCHW_TO_NHWC if len(shape) == 4 and image else NCL_TO_NLC if len(shape) == 3 and image \
                else tuple(range(len(shape)))
            name = self.new_output(vi.name, perm, shape)
            if tt.elem_type in INTEGER_INPUTS:
                # int64 token ids become int32 at the boundary (dataio.to_internal refuses values
                # outside int32); the model input is an unquantized int32 activation
                self.g.tensors[name].dtype = "int32"
            self.g.inputs.append(IOInfo(name, vi.name, shape, perm))

    def _input_shape(self, vi: onnx.ValueInfoProto) -> tuple[int, ...]:
        """An input's static shape: as declared, as given by --input-shape, or with a dynamic batch
        (first) axis fixed to 1; any other dynamic axis is refused with the --input-shape to pass."""
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            if vi.name in self.input_shapes:
                return tuple(int(d) for d in self.input_shapes[vi.name])
            raise DataError(f"{self.source}: input '{vi.name}' declares no shape; edgenn needs static shapes: "
                            f"pass --input-shape {vi.name}=DIMxDIMx... (e.g. {vi.name}=1x3x224x224)")
        dims: list[int | str] = [int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0
                                 else (d.dim_param or "?") for d in tt.shape.dim]
        if vi.name in self.input_shapes:
            given = tuple(int(d) for d in self.input_shapes[vi.name])
            if len(given) != len(dims):
                raise DataError(f"{self.source}: --input-shape {vi.name}={'x'.join(map(str, given))} has "
                                f"{len(given)} dimensions, input '{vi.name}' has {len(dims)} "
                                f"({'x'.join(map(str, dims))})")
            fixed = [(k, d, g) for k, (d, g) in enumerate(zip(dims, given)) if isinstance(d, int) and d != g]
            if fixed and not self.streaming:
                k, d, g = fixed[0]
                raise DataError(f"{self.source}: --input-shape {vi.name}={'x'.join(map(str, given))}: axis {k} of "
                                f"input '{vi.name}' is fixed to {d} in the model, not {g} (only a --stateful "
                                "recurrent model is fed a sequence in chunks)")
            return given
        dynamic = [k for k, d in enumerate(dims) if not isinstance(d, int)]
        if not dynamic:
            return tuple(int(d) for d in dims)  # type: ignore[arg-type]
        if dynamic == [0]:
            note(f"{self.source}: input '{vi.name}' has a dynamic batch axis '{dims[0]}'; edgenn runs one sample "
                 f"per inference: fixed to 1 (shape {'x'.join(map(str, [1] + dims[1:]))})")
            shape = (1,) + tuple(int(d) for d in dims[1:])  # type: ignore[arg-type]
            self.input_shapes[vi.name] = shape  # shape inference must see it too
            return shape
        hint = "x".join(["1" if k == 0 and not isinstance(d, int) else str(d) if isinstance(d, int) else f"<{d}>"
                         for k, d in enumerate(dims)])
        axes = ", ".join(f"axis {k} '{dims[k]}'" for k in dynamic if k > 0)
        raise DataError(f"{self.source}: input '{vi.name}' has dynamic {axes} (shape {'x'.join(map(str, dims))}); "
                        f"edgenn needs static shapes: pass --input-shape {vi.name}={hint} with the sizes you deploy")

    def _check_supported(self) -> None:
        """Refuse a model with several unsupported operators, naming all of them in one error (nodes
        computing only on constants are folded, whatever their type); a single one fails where it is
        met, with the node's name."""
        const = {n for n, v in self.values.items() if v.const is not None}
        table = handlers()
        found: dict[str, list] = {}
        for node in self.nodes:
            ins = [i for i in node.input if i]
            outs = [o for o in node.output if o]
            if node.op_type == "Constant" or (ins and all(i in const for i in ins)) \
                    or node.op_type in SHAPE_OPS_ON_ACTIVATIONS:
                const.update(outs)
                continue
            known = node.domain in IGNORED_DOMAINS and node.op_type in table
            if not known:
                key = node.op_type if node.domain in IGNORED_DOMAINS else f"{node.domain}.{node.op_type}"
                entry = found.setdefault(key, [0, f"node '{node.name or (outs[0] if outs else '?')}'", ""])
                entry[0] += 1
        if sum(v[0] for v in found.values()) > 1:
            raise unsupported_operators(self.source, found, list(table))

    def _constants(self) -> dict[str, np.ndarray]:
        """Initializers and Constant nodes' values (for recognising patterns before the import)."""
        res = {n: v.const for n, v in self.values.items() if v.const is not None}
        for node in self.model.graph.node:
            if node.op_type == "Constant" and node.output and node.attribute:
                try:
                    res[node.output[0]] = np.asarray(onnx.helper.get_attribute_value(node.attribute[0]) if
                                                     node.attribute[0].name != "value" else
                                                     numpy_helper.to_array(node.attribute[0].t))
                except Exception:  # a sparse or string constant: not part of any pattern
                    continue
            elif node.op_type == "Identity" and node.input and node.input[0] in res:
                res[node.output[0]] = res[node.input[0]]  # PyTorch's aliases of shared initializers
        return res

    def _check_shape_operands(self) -> None:
        """Refuse constant shapes, repeats and ranges beyond any tensor edgenn supports before ONNX's
        shape inference sees them: its data propagation allocates what they describe (a Reshape to
        [2^63 - 1] took it past 7 GB, found by tests/fuzz/onnx_mutate.py)."""
        consts = self._constants()
        limit = limits.MAX_TENSOR_BYTES
        for node in self.model.graph.node:
            for k in SHAPE_OPERANDS.get(node.op_type, ()):
                v = consts.get(node.input[k]) if k < len(node.input) else None
                flat = np.asarray(v).reshape(-1) if v is not None else None
                if flat is None or flat.dtype.kind not in "iu":
                    continue
                vals = [abs(int(x)) for x in flat]
                whole = math.prod(x for x in vals if x > 1) if node.op_type != "Pad" else 0  # a shape
                if max(vals, default=0) > limit or whole > limit:
                    self.node = node
                    raise ModelFormatError(f"{self.where()}: input {k} holds {flat[:8].tolist()}: "
                                           f"a tensor that large is over the limit of {limit:,} bytes")
            if node.op_type == "Range" and all(i in consts for i in node.input[:3]) and len(node.input) >= 3:
                start, end, delta = (float(np.asarray(consts[i]).reshape(-1)[0]) for i in node.input[:3])
                if delta != 0 and (end - start) / delta > limit:
                    self.node = node
                    raise ModelFormatError(f"{self.where()}: Range({start:g}, {end:g}, {delta:g}) makes a tensor "
                                           f"over the limit of {limit:,} bytes")
        self.node = None

    def _infer_shapes(self) -> None:
        self._check_shape_operands()
        m = onnx.ModelProto()
        m.CopyFrom(self.model)
        if self.input_shapes:
            # Shapes the exporter declared for other values follow the old input shapes (a recurrent
            # model cut into chunks for streaming): let inference recompute them.
            for vi in list(m.graph.output) + list(m.graph.value_info):
                vi.type.tensor_type.ClearField("shape")
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
                    self._set_shape(vi.name, tuple(int(d) for d in dims))

    def _node(self, node: onnx.NodeProto) -> None:
        if node.domain not in IGNORED_DOMAINS:
            self.fail(f"operator domain '{node.domain}' is not supported")
        inputs = [i for i in node.input if i]
        for i in inputs:
            if i not in self.values:
                self.fail(f"input '{i}' is not defined before this node")
        if node.op_type == "Constant" or (inputs and all(self.is_const(i) for i in inputs)
                                           ):
            self._fold(node)
            return
        if node.op_type in SHAPE_OPS_ON_ACTIVATIONS:
            SHAPE_OPS_ON_ACTIVATIONS[node.op_type](self, node)
            return
        table = handlers()
        handler = table.get(node.op_type)
        if handler is None:
            self.fail(f"operator {node.op_type} is not supported (supported: {', '.join(sorted(table))})")
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
                    self._set_shape(vi.name, tuple(int(d) for d in dims))

    def _set_shape(self, name: str, shape: tuple[int, ...]) -> None:
        """Record an inferred shape; a value too large to compute (in float32) is refused here."""
        why = limits.tensor_problem(shape, 4)
        if why:
            raise ModelFormatError(f"{self.source}: value '{name}' {why}")
        self.shapes.setdefault(name, shape)

    def _folded_shape(self, node: onnx.NodeProto, feeds: dict[str, np.ndarray]) -> tuple[int, ...]:
        """An upper bound of the shape a constant node computes (of the operators that can create
        large values from small inputs; () for others, whose outputs are no larger than their inputs
        or have an inferred shape)."""
        known = self.shapes.get(node.output[0]) if node.output else None
        if known is not None:
            return known
        vals = [np.asarray(feeds[i]) if i else None for i in node.input]
        try:
            if node.op_type in ("ConstantOfShape", "Expand") and len(vals) >= 1:
                shape = [int(d) for d in vals[-1].reshape(-1)]
                if node.op_type == "Expand":
                    src = list(vals[0].shape)
                    n = max(len(src), len(shape))
                    src, shape = [1] * (n - len(src)) + src, [1] * (n - len(shape)) + shape
                    shape = [max(a, b) for a, b in zip(src, shape)]
                return tuple(shape)
            if node.op_type == "Tile" and len(vals) >= 2:
                return tuple(int(a) * int(r) for a, r in zip(vals[0].shape, vals[1].reshape(-1)))
            if node.op_type == "Range" and len(vals) >= 3:
                start, limit, delta = (float(v.reshape(-1)[0]) for v in vals[:3])
                return (int(np.ceil((limit - start) / delta)) if delta else 0,)
        except (ValueError, TypeError, OverflowError, IndexError):
            return ()  # malformed: the evaluation reports it
        return ()

    def _fold(self, node: onnx.NodeProto) -> None:
        """Evaluate a node whose inputs are all constant."""
        from onnx.reference import ReferenceEvaluator

        feeds = {i: self.values[i].const for i in node.input if i}
        why = limits.tensor_problem(self._folded_shape(node, feeds), 8)
        if why:
            self.fail(f"folding it on constants would create a value that {why}")
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


# ---------------------------------------------------------------------- structural handlers
# ONNX operators that compute nothing (aliases) or only shapes; every other handler comes from an
# operator rule's ONNX table (converter/ops/<name>.py).

def _identity(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    if node.op_type == "Dropout":
        training = imp.optional_const(node, 2)
        if training is not None and bool(np.asarray(training).reshape(-1)[0]):
            imp.fail("Dropout in training mode is random; export the model in inference mode (model.eval())")
        if len(node.output) > 1 and node.output[1]:
            # Inference keeps every element: the mask is a constant of trues (unused: pruned away).
            imp.values[node.output[1]] = Value(const=np.ones(imp.shape(node.input[0]), bool))
    imp.alias(node.output[0], node.input[0])


def _cast(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    to = int(imp.attr(node, "to"))
    if to not in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16):
        imp.fail("casting activations to a non-float type is not supported")
    imp.alias(node.output[0], node.input[0])


def _shape_op(imp: OnnxImporter, node: onnx.NodeProto) -> None:
    """Shape / Size of an activation: known statically, so a constant."""
    shape = np.asarray(imp.shape(node.input[0]), np.int64)
    if node.op_type == "Size":
        val = np.asarray(int(np.prod(shape)), np.int64)
    else:
        start = imp.attr(node, "start", 0)
        end = imp.attr(node, "end", None)
        val = shape[start:end]
    imp.values[node.output[0]] = Value(const=val)


SHAPE_OPS_ON_ACTIVATIONS = {"Shape": _shape_op, "Size": _shape_op}
STRUCTURAL: dict[str, Callable[[OnnxImporter, onnx.NodeProto], None]] = {
    "Identity": _identity,
    "Dropout": _identity,
    "Cast": _cast,
}


@lru_cache(maxsize=None)
def handlers() -> dict[str, Callable[[OnnxImporter, onnx.NodeProto], None]]:
    """ONNX operator type -> handler: the structural ones and every operator rule's ``ONNX`` table."""
    from edgenn.converter.ops import import_handlers

    table = dict(STRUCTURAL)
    table.update(COMPOSITE)
    for src, fn in import_handlers("ONNX").items():
        if src in table:
            raise RuntimeError(f"ONNX operator {src} has two handlers")
        table[src] = fn
    return table


def _itemsize(elem_type: int) -> int:
    try:
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type)).itemsize
    except Exception:  # an unknown or string type: counted as one byte per value
        return 1


def _check_declared_sizes(model: onnx.ModelProto, file_bytes: int, source: Path) -> None:
    """Refuse a file declaring more nodes than edgenn reads or an initializer larger than the file
    (or than a tensor may be) before anything is allocated for it."""
    why = limits.count_problem("nodes", len(model.graph.node), limits.MAX_OPERATORS)
    if why:
        raise ModelFormatError(f"{source}: the model {why}")
    for init in model.graph.initializer:
        nbytes = limits.tensor_bytes(init.dims, _itemsize(init.data_type))
        external = init.data_location == onnx.TensorProto.EXTERNAL
        why = limits.tensor_problem(init.dims, _itemsize(init.data_type))
        if why is None and not external and nbytes > file_bytes:
            why = f"declares {nbytes:,} bytes, more than the whole {file_bytes:,}-byte file (damaged file?)"
        if why:
            raise ModelFormatError(f"{source}: initializer '{init.name}' {why}")


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
    _check_declared_sizes(model, len(data), p)
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


def import_onnx(path: str | Path, input_shapes: dict[str, tuple[int, ...]] | None = None,
                streaming: bool = False) -> tuple[Graph, onnx.ModelProto]:
    """Load and import; returns the float graph and the ONNX model (for calibration). ``streaming``
    (--stateful): ``input_shapes`` may change fixed axes (a sequence fed in chunks)."""
    model, data = load_onnx(path)
    g = OnnxImporter(model, str(path), input_shapes, streaming).run()
    g.source_format = "onnx"
    g.source_file = str(path)
    g.source_sha256 = hashlib.sha256(data).hexdigest()
    return g, model
