"""Import a fully int8-quantized .tflite model as it is (no re-quantization).

The flatbuffer is read with the `tflite` package (code generated from TFLite's schema). Every
operator maps to one edgenn operator with its TFLite quantization parameters; the rules'
``prepare`` then computes exactly the fixed-point parameters TFLM computes. QUANTIZE (float ->
int8) at the inputs and DEQUANTIZE at the outputs are the float boundary: they are dropped and
the int8 tensors become the model's inputs and outputs.
"""
from __future__ import annotations

import hashlib
import importlib
import struct
from pathlib import Path
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from edgenn import limits
from edgenn.converter.graph import Graph, IOInfo, Op, QParams, Tensor
from edgenn.errors import ModelFormatError, UnsupportedOpError, unsupported_operators

TFLITE_TYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string", 6: "bool", 7: "int16",
                9: "int8", 10: "float64"}
ACTIVATIONS: dict[int, tuple[float | None, float | None]] = {0: (None, None), 1: (0.0, None), 2: (-1.0, 1.0),
                                                             3: (0.0, 6.0)}
ACTIVATION_NAMES = {4: "TANH", 5: "SIGN_BIT"}
# Float elementwise operators that an int8 model may hold between DEQUANTIZE and QUANTIZE.
FLOAT_ELEMENTWISE = {"NEG"}
# Builtins edgenn could compute but refuses: TFLM, the judge of imported models, has no int8 kernel.
NO_TFLM_KERNEL = {"TILE": "TFLM has no int8 kernel for TILE (its op resolver registers none)",
                  "REDUCE_PROD": "TFLM has no kernel for REDUCE_PROD (its op resolver registers none)",
                  "REDUCE_ANY": "TFLM has no kernel for REDUCE_ANY (its op resolver registers none)",
                  "LOCAL_RESPONSE_NORMALIZATION": "TFLM has no kernel for LOCAL_RESPONSE_NORMALIZATION (its op "
                                                  "resolver registers none; ONNX LRN converts)",
                  "L2_POOL_2D": "TFLM's L2_POOL_2D computes float32 only (no int8 kernel)"}

FLOAT_MODEL_HINT = ("this .tflite model is not fully int8-quantized; re-export it with full-integer "
                    "quantization (TFLiteConverter with optimizations=[tf.lite.Optimize.DEFAULT], a "
                    "representative_dataset and supported_ops=[TFLITE_BUILTINS_INT8]), or convert the float "
                    "source model (ONNX) with `edgenn convert model.onnx --calib data.npy`")


class TfliteOp:
    """One operator of the file, with its resolved code name and option table."""

    def __init__(self, index: int, code: str, inputs: list[int], outputs: list[int], options: Any,
                 through_float: bool = False):
        self.index = index
        self.through_float = through_float  # DEQUANTIZE -> this float op -> QUANTIZE, folded into one int8 op
        self.code = code
        self.inputs = inputs
        self.outputs = outputs
        self.options = options

    @property
    def label(self) -> str:
        return f"operator {self.index} ({self.code})"


class TfliteImporter:
    def __init__(self, data: bytes, source: str):
        self.data = data
        self.source = source
        self.g = Graph()
        self.names: dict[int, str] = {}  # tflite tensor index -> graph tensor name
        self.model: Any = None
        self.sg: Any = None

    # ------------------------------------------------------------------ helpers for handlers
    def fail(self, op: TfliteOp, why: str) -> None:
        raise UnsupportedOpError(f"{self.source}: {op.label} producing {self.tensor_label(op.outputs)}: {why}")

    def tensor_label(self, idx: list[int]) -> str:
        return ", ".join(repr(self.names.get(i, str(i))) for i in idx if i >= 0)

    def act(self, op: TfliteOp, code: int) -> tuple[float | None, float | None]:
        if code not in ACTIVATIONS:
            self.fail(op, f"fused activation {ACTIVATION_NAMES.get(code, code)} is not supported")
        return ACTIVATIONS[code]

    def name(self, i: int) -> str:
        return self.names[i] if i >= 0 else ""

    def const(self, i: int) -> np.ndarray | None:
        t = self.g.tensors.get(self.names.get(i, ""))
        return None if t is None else t.data

    def add(self, op: TfliteOp, type_: str, inputs: list[int], outputs: list[int], **attrs: Any) -> Op:
        name = self.g.tensors[self.names[outputs[0]]].name
        return self.g.add_op(type_, name, [self.name(i) for i in inputs], [self.name(i) for i in outputs], **attrs)

    def tensor(self, i: int) -> Tensor:
        """The graph tensor of TFLite tensor index ``i``."""
        return self.g.tensors[self.names[i]]

    def shape(self, i: int) -> tuple[int, ...]:
        return self.g.tensors[self.names[i]].shape

    def padding(self, op: TfliteOp, padding: int, in_hw, out_hw, filt_hw, stride, dilation) -> tuple[int, int, int, int]:
        """Explicit (top, left, bottom, right) pads of TFLite's SAME / VALID padding."""
        if padding == 1:  # VALID
            return (0, 0, 0, 0)
        if padding != 0:
            self.fail(op, f"padding mode {padding} is not supported")
        pads = []
        for i in range(2):
            eff = (filt_hw[i] - 1) * dilation[i] + 1
            total = max((out_hw[i] - 1) * stride[i] + eff - in_hw[i], 0)
            pads.append((total // 2, total - total // 2))
        return (pads[0][0], pads[1][0], pads[0][1], pads[1][1])

    def conv_attrs(self, op: TfliteOp) -> dict[str, Any]:
        """stride, dilation, pads and act of CONV_2D / DEPTHWISE_CONV_2D (4-D NHWC tensors)."""
        o = op.options
        x, w, y = self.shape(op.inputs[0]), self.shape(op.inputs[1]), self.shape(op.outputs[0])
        if len(x) != 4 or len(w) != 4 or len(y) != 4:
            self.fail(op, "only 4-D NHWC convolutions are supported")
        stride = (o.StrideH(), o.StrideW())
        dilation = (o.DilationHFactor() or 1, o.DilationWFactor() or 1)
        pads = self.padding(op, o.Padding(), x[1:3], y[1:3], w[1:3], stride, dilation)
        return {"stride": stride, "dilation": dilation, "pads": pads, "act": self.act(op, o.FusedActivationFunction())}

    def optional(self, op: TfliteOp, k: int) -> list[int]:
        """[input k] if the operator has that (optional) input, else []."""
        return op.inputs[k:k + 1] if len(op.inputs) > k and op.inputs[k] >= 0 else []

    def pool(self, op: TfliteOp, kind: str) -> None:
        """AVERAGE_POOL_2D / MAX_POOL_2D."""
        o = op.options
        x, y = self.shape(op.inputs[0]), self.shape(op.outputs[0])
        filt = (o.FilterHeight(), o.FilterWidth())
        stride = (o.StrideH(), o.StrideW())
        pads = self.padding(op, o.Padding(), x[1:3], y[1:3], filt, stride, (1, 1))
        self.add(op, kind, op.inputs[:1], op.outputs[:1], filter=filt, stride=stride, pads=pads,
                 act=self.act(op, o.FusedActivationFunction()))

    def binary(self, op: TfliteOp, kind: str) -> None:
        """ADD / MUL (and the like): two inputs, an optional fused activation."""
        o = op.options
        act = self.act(op, o.FusedActivationFunction()) if o is not None else (None, None)
        self.add(op, kind, op.inputs[:2], op.outputs[:1], act=act)

    def unary(self, op: TfliteOp, kind: str, **attrs: Any) -> None:
        """A one-input operator without options of its own."""
        self.add(op, kind, op.inputs[:1], op.outputs[:1], **attrs)

    # ------------------------------------------------------------------ reading
    def run(self) -> Graph:
        import tflite

        d = self.data
        if len(d) < 8 or d[4:8] != b"TFL3":
            raise ModelFormatError(f"{self.source}: not a TFLite flatbuffer (missing 'TFL3' identifier)")
        (root,) = struct.unpack_from("<I", d, 0)
        if root + 4 > len(d):
            raise ModelFormatError(f"{self.source}: truncated TFLite file")
        self.model = tflite.Model.GetRootAs(d, 0)
        nsub = self.model.SubgraphsLength()
        if nsub != 1:
            raise UnsupportedOpError(f"{self.source}: the model has {nsub} subgraphs; only single-subgraph models "
                                     "(no control flow) are supported")
        self.sg = self.model.Subgraphs(0)
        for what, count, limit in (("tensors", self.sg.TensorsLength(), limits.MAX_TENSORS),
                                    ("operators", self.sg.OperatorsLength(), limits.MAX_OPERATORS)):
            why = limits.count_problem(what, count, limit)
            if why:
                raise ModelFormatError(f"{self.source}: the model {why}")
        # TFLM keeps variable tensors from one invoke to the next until the interpreter is reset.
        self.g.stateful = True
        self._tensors()
        ops = self._fold_float_chains(self._operators())
        self._io(ops)
        table = handlers()
        self._check_supported(ops, table)
        for op in ops:
            if op.code in ("QUANTIZE", "DEQUANTIZE") and self._is_boundary(op):
                continue
            table[op.code](self, op)
        self.g.toposort()
        self.g.prune()
        computed = {t for op in self.g.ops for t in op.outputs} | {io.tensor for io in self.g.inputs}
        for io in self.g.outputs:
            if io.tensor not in computed:
                raise ModelFormatError(f"{self.source}: model output {io.source_name!r} is not computed by any operator")
        return self.g

    def _check_supported(self, ops: list[TfliteOp], table: dict) -> None:
        """Refuse a model with unsupported operators, naming all of them in one error."""
        found: dict[str, list] = {}
        for op in ops:
            if op.code in ("QUANTIZE", "DEQUANTIZE") and self._is_boundary(op):
                continue
            if op.code not in table or op.code in NO_TFLM_KERNEL:
                entry = found.setdefault(op.code, [0, f"operator {op.index}", NO_TFLM_KERNEL.get(op.code, "")])
                entry[0] += 1
        supported = [c for c in table if c not in NO_TFLM_KERNEL]
        if len(found) == 1 and next(iter(found.values()))[0] == 1:
            (code, (_, where, why)), = found.items()
            raise UnsupportedOpError(f"{self.source}: {where} ({code}) is not supported{': ' + why if why else ''} "
                                     f"(supported: {', '.join(sorted(supported))})")
        if found:
            raise unsupported_operators(self.source, found, supported)

    def _tensors(self) -> None:
        sg = self.sg
        nbuf = self.model.BuffersLength()
        for i in range(sg.TensorsLength()):
            t = sg.Tensors(i)
            raw_name = t.Name()
            name = self.g.unique((raw_name.decode("utf-8", "replace") if raw_name else "") or f"t{i}")
            ttype = t.Type()
            dtype = TFLITE_TYPES.get(ttype, f"type{ttype}")
            shape = tuple(int(s) for s in (t.ShapeAsNumpy() if t.ShapeLength() else []))
            sig = t.ShapeSignatureAsNumpy() if t.ShapeSignatureLength() else None
            if any(s < 0 for s in shape) or (sig is not None and any(int(s) < 0 for s in sig[1:])):
                raise ModelFormatError(f"{self.source}: tensor {name!r} has a dynamic shape {list(sig if sig is not None else shape)}; "
                                       "only static shapes are supported")
            why = limits.tensor_problem(shape, np.dtype(dtype).itemsize if dtype in TFLITE_TYPES.values()
                                        and dtype != "string" else 1)
            if why:
                raise ModelFormatError(f"{self.source}: tensor {name!r} {why}")
            data = None
            b = t.Buffer()
            if b >= nbuf:
                raise ModelFormatError(f"{self.source}: tensor {name!r} refers to buffer {b} of {nbuf}")
            if b > 0:
                buf = self.model.Buffers(b)
                if buf.DataLength():
                    if dtype not in ("int8", "int32", "uint8", "int16", "int64", "float32", "bool"):
                        hint = f": {FLOAT_MODEL_HINT}" if dtype == "float16" else ""
                        raise UnsupportedOpError(f"{self.source}: constant tensor {name!r} has type {dtype}{hint}")
                    raw = buf.DataAsNumpy()
                    want = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
                    if raw.size != want:
                        raise ModelFormatError(f"{self.source}: tensor {name!r} has {raw.size} data bytes, shape "
                                               f"{list(shape)} needs {want}")
                    data = np.frombuffer(raw.tobytes(), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
                    data = data.reshape(shape)
                elif buf.Offset() > 0:
                    raise UnsupportedOpError(f"{self.source}: tensor {name!r} stores its data outside the flatbuffer "
                                             "(models over 2 GB are not supported)")
            quant = None
            q = t.Quantization()
            if q is not None and q.ScaleLength() > 0:
                scale = q.ScaleAsNumpy().astype(np.float32)
                zp = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else np.zeros(scale.size, np.int64)
                if zp.size == 1 and scale.size > 1:
                    zp = np.zeros(scale.size, np.int64) + zp[0]
                if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
                    raise ModelFormatError(f"{self.source}: tensor {name!r} has invalid scales")
                quant = QParams(scale, zp, int(q.QuantizedDimension()))
            if quant is None and dtype in ("int8", "uint8", "int16"):
                # Every int8/int16 tensor of an integer model is quantized; without parameters no rule can scale it.
                raise ModelFormatError(f"{self.source}: {dtype} tensor {name!r} has no quantization parameters")
            if t.IsVariable():
                data = None  # TFLM ignores a variable tensor's buffer
            tensor = self.g.add_tensor(name, shape, dtype, data, quant)
            if t.IsVariable():
                # A state tensor (LSTM, SVDF): TFLM resets it to its zero point (int8) or to zero.
                tensor.variable = True
                if dtype == "int8" and quant is not None and quant.zp != 0:
                    tensor.initial = np.full(shape, quant.zp, np.int8)
            self.names[i] = name

    def _operators(self) -> list[TfliteOp]:
        from tflite.utils import BUILTIN_OPCODE2NAME

        codes = []
        for i in range(self.model.OperatorCodesLength()):
            c = self.model.OperatorCodes(i)
            code = max(int(c.BuiltinCode()), int(c.DeprecatedBuiltinCode()))
            name = BUILTIN_OPCODE2NAME.get(code, f"BUILTIN_{code}")
            if name == "CUSTOM":
                cc = c.CustomCode()
                name = f"CUSTOM({cc.decode('utf-8', 'replace') if cc else '?'})"
            codes.append(name)
        ntensors = self.sg.TensorsLength()
        ops = []
        for i in range(self.sg.OperatorsLength()):
            o = self.sg.Operators(i)
            if o.OpcodeIndex() >= len(codes):
                raise ModelFormatError(f"{self.source}: operator {i} has opcode index {o.OpcodeIndex()} of {len(codes)}")
            ins = [int(x) for x in (o.InputsAsNumpy() if o.InputsLength() else [])]
            outs = [int(x) for x in (o.OutputsAsNumpy() if o.OutputsLength() else [])]
            if any(x >= ntensors or x < -1 for x in ins + outs) or not outs:
                raise ModelFormatError(f"{self.source}: operator {i} refers to tensors outside 0..{ntensors - 1}")
            ops.append(TfliteOp(i, codes[o.OpcodeIndex()], ins, outs, self._options(o)))
        return ops

    def _fold_float_chains(self, ops: list[TfliteOp]) -> list[TfliteOp]:
        """DEQUANTIZE -> one float elementwise op -> QUANTIZE (the TF converter's float NEG inside layer
        normalizations) as that op on the int8 tensors, marked ``through_float``: its handler decides
        whether the int8 -> int8 function is computable as TFLM computes the chain."""
        users: dict[int, list[TfliteOp]] = {}
        for op in ops:
            for i in op.inputs:
                users.setdefault(i, []).append(op)
        graph_outs = {int(x) for x in (self.sg.OutputsAsNumpy() if self.sg.OutputsLength() else [])}
        drop: set[int] = set()
        replace: dict[int, TfliteOp] = {}
        for d in ops:
            if d.code != "DEQUANTIZE" or len(d.outputs) != 1 or d.outputs[0] in graph_outs:
                continue
            mid = users.get(d.outputs[0], [])
            if len(mid) != 1 or mid[0].code not in FLOAT_ELEMENTWISE or mid[0].inputs != d.outputs:
                continue
            u = mid[0]
            last = users.get(u.outputs[0], [])
            if len(last) != 1 or last[0].code != "QUANTIZE" or u.outputs[0] in graph_outs:
                continue
            q = last[0]
            if self.tensor(q.outputs[0]).dtype != "int8" or self.tensor(d.inputs[0]).dtype != "int8":
                continue
            drop.update((d.index, q.index))
            replace[u.index] = TfliteOp(u.index, u.code, [d.inputs[0]], q.outputs[:1], u.options, through_float=True)
        return [replace.get(op.index, op) for op in ops if op.index not in drop]

    @staticmethod
    def _options(o: Any) -> Any:
        from tflite.BuiltinOptions import BuiltinOptions

        kind = o.BuiltinOptionsType()
        if kind == 0:
            return None
        names = {v: k for k, v in vars(BuiltinOptions).items() if not k.startswith("_")}
        cls_name = names.get(kind)
        if cls_name is None:
            return None
        mod = importlib.import_module(f"tflite.{cls_name}")
        table = o.BuiltinOptions()
        opt = getattr(mod, cls_name)()
        opt.Init(table.Bytes, table.Pos)
        return opt

    def _is_boundary(self, op: TfliteOp) -> bool:
        src = self.g.tensors[self.names[op.inputs[0]]]
        dst = self.g.tensors[self.names[op.outputs[0]]]
        if op.code == "QUANTIZE":
            return src.dtype == "float32" and self.names[op.inputs[0]] in self._float_inputs
        return dst.dtype == "float32" and self.names[op.outputs[0]] in self._float_outputs

    def _refuse_float_operators(self, ops: list[TfliteOp]) -> None:
        """Name the operators that compute in float32 inside the graph (TF's converter leaves an
        operator without an int8 kernel in float, between DEQUANTIZE and QUANTIZE)."""
        def floats(op: TfliteOp) -> bool:
            return any(k >= 0 and self.g.tensors[self.names[k]].dtype == "float32" for k in op.inputs + op.outputs)

        inner = [op for op in ops if not (op.code in ("QUANTIZE", "DEQUANTIZE") and self._is_boundary(op))]
        computing = [op for op in inner if op.code not in ("QUANTIZE", "DEQUANTIZE") and floats(op)]
        if computing:
            names = ", ".join(op.label for op in computing[:3]) + (f" and {len(computing) - 3} more"
                                                                    if len(computing) > 3 else "")
            supported = [op.code for op in computing if op.code in handlers()]
            how = (f"edgenn runs {supported[0]} in int8, but TF's converter did not quantize it: convert the float "
                   "source model (ONNX) with `edgenn convert model.onnx --calib data.npy`, which quantizes every "
                   "operator itself" if supported else
                   f"edgenn has no {computing[0].code} operator: replace it in the model (e.g. by a supported "
                   "activation) and re-export, or convert the float ONNX source with --calib")
            one = len(computing) == 1
            raise UnsupportedOpError(f"{self.source}: {names} {'computes' if one else 'compute'} in float32 (TF's "
                                     f"converter left {'it' if one else 'them'} between DEQUANTIZE and QUANTIZE, as "
                                     "it does for operators without an int8 kernel when float fallback is allowed); "
                                     f"edgenn runs int8 operators only: {how}")
        for op in inner:
            if floats(op):
                t = next(self.g.tensors[self.names[k]] for k in op.inputs + op.outputs
                         if k >= 0 and self.g.tensors[self.names[k]].dtype == "float32")
                raise UnsupportedOpError(f"{self.source}: {op.label} uses float32 tensor {t.name!r}: "
                                         + FLOAT_MODEL_HINT)

    def _io(self, ops: list[TfliteOp]) -> None:
        sg = self.sg
        ins = [int(x) for x in (sg.InputsAsNumpy() if sg.InputsLength() else [])]
        outs = [int(x) for x in (sg.OutputsAsNumpy() if sg.OutputsLength() else [])]
        if not ins or not outs:
            raise ModelFormatError(f"{self.source}: the model declares no inputs or no outputs")
        self._float_inputs: set[str] = set()
        self._float_outputs: set[str] = set()
        for i in ins:
            name = self.names[i]
            t = self.g.tensors[name]
            if t.dtype == "float32":
                q = [op for op in ops if op.code == "QUANTIZE" and op.inputs[0] == i]
                if len(q) != 1 or any(i in op.inputs for op in ops if op.code != "QUANTIZE"):
                    user = next((op for op in ops if i in op.inputs and op.code != "QUANTIZE"), None)
                    what = f"feeds {user.label} directly" if user else "is not quantized on entry"
                    raise UnsupportedOpError(f"{self.source}: input {name!r} is float32 and {what}, so the model "
                                             "computes in float (dynamic-range or no quantization): " + FLOAT_MODEL_HINT)
                self._float_inputs.add(name)
                inner = self.names[q[0].outputs[0]]
                self.g.inputs.append(IOInfo(inner, name, t.shape))
            else:
                self.g.inputs.append(IOInfo(name, name, t.shape))
        for i in outs:
            name = self.names[i]
            t = self.g.tensors[name]
            if t.dtype == "float32":
                dq = [op for op in ops if op.code == "DEQUANTIZE" and op.outputs[0] == i]
                if len(dq) != 1:
                    raise UnsupportedOpError(f"{self.source}: output {name!r} is float32: " + FLOAT_MODEL_HINT)
                self._float_outputs.add(name)
                self.g.outputs.append(IOInfo(self.names[dq[0].inputs[0]], name, t.shape))
            else:
                self.g.outputs.append(IOInfo(name, name, t.shape))
        self._refuse_float_operators(ops)
        for io in self.g.inputs + self.g.outputs:
            t = self.g.tensors[io.tensor]
            if not ((t.dtype in ("int8", "int16", "int32") and t.quant is not None)
                    or (t.dtype in ("bool", "int32", "int64") and t.quant is None)):
                raise UnsupportedOpError(f"{self.source}: model input/output {io.source_name!r} is {t.dtype}"
                                         f"{' (quantized)' if t.quant is not None else ''}; only quantized int8, "
                                         "int16 or int32, bool, int32, int64 (or float32 with QUANTIZE/DEQUANTIZE at "
                                         "the boundary) is supported")


@lru_cache(maxsize=None)
def handlers() -> dict[str, Callable[[TfliteImporter, TfliteOp], None]]:
    """TFLite builtin name -> handler, from every operator rule's ``TFLITE`` table (converter/ops/<name>.py)."""
    from edgenn.converter.ops import import_handlers

    return import_handlers("TFLITE")


def import_tflite(data: bytes, source: str = "<tflite>") -> Graph:
    """Parse a .tflite flatbuffer into a quantized Graph; clear errors for anything unsupported."""
    imp = TfliteImporter(data, source)
    try:
        g = imp.run()
    except (ModelFormatError, UnsupportedOpError):
        raise
    except Exception as e:  # corrupt offsets surface as assorted struct / index errors
        raise ModelFormatError(f"{source}: corrupt or truncated TFLite file ({type(e).__name__})") from None
    g.source_format = "tflite"
    g.source_file = source
    g.source_sha256 = hashlib.sha256(data).hexdigest()
    return g


def convert_tflite_bytes(data: bytes, name: str = "model", source: str = "<tflite>"):
    """Import and lower in one step: .tflite bytes -> EnnModel (used by tests and the CLI)."""
    from edgenn import __version__
    from edgenn.converter.lower import to_enn

    g = import_tflite(data, source)
    prov = {"tool_version": __version__, "source_format": "tflite", "source_file": Path(source).name,
            "source_sha256": g.source_sha256, "options_json": "{}"}
    return to_enn(g, name, prov)
