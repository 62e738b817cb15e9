"""Reading and writing .enn files (FlatBuffers, schema in schema/edgenn.fbs).

``EnnModel`` is the plain-Python view of a file. The converter builds one and calls ``save``;
runtime_py and codegen call ``load`` and see exactly what the file holds, nothing more.
Operator options are exposed as a dict of snake_case names (as in the schema) to ints, bools
and int32 numpy arrays.
"""
from __future__ import annotations

import math
import os
import re
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np

from edgenn import limits
from edgenn.errors import ModelFormatError, read_file
from edgenn.format import weight_codecs
from edgenn.format.operators import OPERATORS
from edgenn.format.schema.fb import DType as _DType
from edgenn.format.schema.fb import Model as _Model
from edgenn.format.schema.fb import OperatorOptions as _OperatorOptions
from edgenn.format.schema.fb import OpType as _OpType
from edgenn.format.schema.fb.Buffer import BufferAddData, BufferEnd, BufferStart
from edgenn.format.schema.fb.IODesc import IODescT
from edgenn.format.schema.fb.Model import ModelT
from edgenn.format.schema.fb.Operator import OperatorT
from edgenn.format.schema.fb.Plan import PlanT
from edgenn.format.schema.fb.Provenance import ProvenanceT
from edgenn.format.schema.fb.Tensor import TensorT

FILE_IDENTIFIER = b"ENN1"
FORMAT_VERSION = 1
BUFFER_ALIGN = 16

DTYPES: dict[str, int] = {
    "int8": _DType.DType.INT8,
    "uint8": _DType.DType.UINT8,
    "int16": _DType.DType.INT16,
    "int32": _DType.DType.INT32,
    "int64": _DType.DType.INT64,
    "float32": _DType.DType.FLOAT32,
    "bool": _DType.DType.BOOL,
}
_DTYPE_NAMES = {v: k for k, v in DTYPES.items()}
# What an activation (a tensor in the arena) may hold: quantized int8 values, booleans (one byte,
# 0 or 1: comparison results, select conditions), plain int32 / int64 integers (indices: ONNX
# ArgMax writes int64) or int16 (state tensors: an LSTM's cell state, an SVDF's memory).
ACTIVATION_DTYPES = ("int8", "bool", "int32", "int16", "int64")


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel).lower()


def _optype_value(name: str) -> int:
    return getattr(_OpType.OpType, name.upper())


_OPTYPE_NAMES = {_optype_value(n): n for n in OPERATORS}
# OperatorOptions member k + 1 is the options table of OpType k (scripts/gen_schema.py).
_TABLES = {n: next(k for k, v in vars(_OperatorOptions.OperatorOptions).items() if v == _optype_value(n) + 1)
           for n in OPERATORS}


def options_table(op_type: str) -> str:
    """The name of an operator's options table in the schema (format/schema/ops/<op_type>.fbs)."""
    return _TABLES[op_type]


def _options_class(op_type: str):
    table = _TABLES[op_type]
    module = __import__(f"edgenn.format.schema.fb.{table}", fromlist=[table + "T"])
    return getattr(module, table + "T")


@dataclass
class EnnTensor:
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    zero_point: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quant_axis: int = 0
    data: np.ndarray | None = None  # constants only, with shape and dtype (decoded values)
    arena_offset: int = -1
    nbytes: int = 0
    encoding: str = "raw"  # how the constant is stored: "raw", "huffman" or "palette" (weight_codecs)
    encoded: bytes | None = None  # the stored stream of an encoded constant
    # A state tensor: an activation (arena_offset) kept between invokes of a stateful model, never
    # shared with another buffer; ``initial`` is the value a reset writes (None: zeros).
    variable: bool = False
    initial: np.ndarray | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def is_encoded(self) -> bool:
        return self.data is not None and self.encoding != "raw"

    @property
    def stored_nbytes(self) -> int:
        """Bytes the constant occupies in the file and in flash (the encoded stream if encoded)."""
        if self.data is None:
            return 0
        return len(self.encoded) if self.is_encoded and self.encoded is not None else int(self.data.nbytes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass
class EnnOp:
    type: str
    name: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any]
    scratch_offset: int = -1
    scratch_bytes: int = 0
    macs: int = 0


@dataclass
class EnnIO:
    tensor: int
    source_name: str
    source_shape: tuple[int, ...]
    to_internal_perm: tuple[int, ...] = ()


@dataclass
class EnnModel:
    name: str
    tensors: list[EnnTensor]
    ops: list[EnnOp]
    inputs: list[EnnIO]
    outputs: list[EnnIO]
    arena_bytes: int
    provenance: dict[str, str] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION
    # With state tensors: keep them between invokes (streaming) instead of resetting them each time.
    stateful: bool = False

    def tensor(self, index: int) -> EnnTensor:
        return self.tensors[index]

    @property
    def state_tensors(self) -> list[EnnTensor]:
        """The state tensors (``variable``), in tensor order."""
        return [t for t in self.tensors if t.variable]

    @staticmethod
    def state_reset_value(t: EnnTensor) -> np.ndarray:
        """The value a reset writes into state tensor ``t`` (its ``initial`` value, else zeros)."""
        if t.initial is not None:
            return np.asarray(t.initial, dtype=t.dtype).reshape(t.shape)
        return np.zeros(t.shape, dtype=t.dtype)


def default_options(op_type: str) -> dict[str, Any]:
    """The schema's default value of every option of an operator (what a reader sees when unset)."""
    return _options_dict(_options_class(op_type)())


def complete_options(op: "EnnOp") -> dict[str, Any]:
    """``op.options`` with the schema defaults filled in, as a file written and read back holds them."""
    return {**default_options(op.type), **op.options}


# ---------------------------------------------------------------------------------- writing


def _options_object(op: EnnOp):
    table = _TABLES[op.type]
    obj = _options_class(op.type)()
    known = {k for k in vars(obj)}
    for key, value in op.options.items():
        attr = _camel(key)
        if attr not in known:
            raise ValueError(f"{op.type}: option {key!r} is not in the schema table {table}")
        if isinstance(value, np.ndarray):
            value = np.ascontiguousarray(value, dtype=np.int32).reshape(-1)
        elif isinstance(value, (list, tuple)):
            value = np.asarray(value, dtype=np.int32).reshape(-1)
        elif isinstance(value, (bool, np.bool_)):
            value = bool(value)
        else:
            value = int(value)
        setattr(obj, attr, value)
    return getattr(_OperatorOptions.OperatorOptions, table), obj


def _pack_buffer(builder: flatbuffers.Builder, data: bytes) -> int:
    # The object API aligns [ubyte] to 1; weights want 16 so readers can view them in place.
    builder.StartVector(1, len(data), BUFFER_ALIGN)
    builder.head = builder.head - len(data)
    builder.Bytes[builder.head : builder.head + len(data)] = data
    builder.vectorNumElems = len(data)
    vec = builder.EndVector()
    BufferStart(builder)
    BufferAddData(builder, vec)
    return BufferEnd(builder)


def to_bytes(model: EnnModel) -> bytes:
    """Serialize a model to FlatBuffers bytes."""
    m = ModelT()
    m.version = model.version
    m.name = model.name
    m.arenaBytes = int(model.arena_bytes)
    m.stateful = bool(model.stateful)
    raw_buffers: list[bytes] = []
    m.tensors = []
    for t in model.tensors:
        tt = TensorT()
        tt.name = t.name
        tt.shape = np.asarray(t.shape, dtype=np.int32).reshape(-1)
        tt.dtype = DTYPES[t.dtype]
        tt.scale = np.asarray(t.scale, dtype=np.float32).reshape(-1)
        tt.zeroPoint = np.asarray(t.zero_point, dtype=np.int64).reshape(-1)
        tt.quantAxis = int(t.quant_axis)
        tt.arenaOffset = int(t.arena_offset)
        tt.variable = bool(t.variable)
        if t.variable and t.initial is not None:
            tt.buffer = len(raw_buffers)
            raw_buffers.append(np.ascontiguousarray(t.initial, dtype=np.dtype(t.dtype).newbyteorder("<")).tobytes())
            tt.nbytes = t.size * np.dtype(t.dtype).itemsize
        elif t.data is not None:
            data = np.ascontiguousarray(t.data, dtype=np.dtype(t.dtype).newbyteorder("<"))
            tt.buffer = len(raw_buffers)
            if t.is_encoded:
                if t.encoding not in weight_codecs.ENCODINGS or t.encoded is None or t.dtype != "int8":
                    raise ValueError(f"tensor {t.name!r}: encoding {t.encoding!r} needs int8 data and its stream")
                tt.encoding = weight_codecs.ENCODINGS.index(t.encoding)
                raw_buffers.append(bytes(t.encoded))
            else:
                raw_buffers.append(data.tobytes())
            tt.nbytes = data.nbytes
        else:
            tt.nbytes = int(t.nbytes) if t.nbytes else t.size * np.dtype(t.dtype).itemsize
        m.tensors.append(tt)
    m.operators = []
    for op in model.ops:
        o = OperatorT()
        o.type = _optype_value(op.type)
        o.name = op.name
        o.inputs = np.asarray(op.inputs, dtype=np.int32)
        o.outputs = np.asarray(op.outputs, dtype=np.int32)
        o.optionsType, o.options = _options_object(op)
        o.scratchOffset = int(op.scratch_offset)
        o.scratchBytes = int(op.scratch_bytes)
        o.macs = int(op.macs)
        m.operators.append(o)

    def io(d: EnnIO) -> IODescT:
        x = IODescT()
        x.tensor = d.tensor
        x.sourceName = d.source_name
        x.sourceShape = np.asarray(d.source_shape, dtype=np.int32)
        x.toInternalPerm = np.asarray(d.to_internal_perm, dtype=np.int32)
        return x

    m.inputs = [io(d) for d in model.inputs]
    m.outputs = [io(d) for d in model.outputs]
    p = ProvenanceT()
    for key, value in model.provenance.items():
        setattr(p, _camel(key), str(value))
    m.provenance = p
    plan = PlanT()
    plan.planner = str(model.plan.get("planner", ""))
    plan.lowerBoundBytes = int(model.plan.get("lower_bound_bytes", 0))
    plan.order = np.asarray(model.plan.get("order", []), dtype=np.int32)
    m.plan = plan

    builder = flatbuffers.Builder(1024 + sum(len(b) + BUFFER_ALIGN for b in raw_buffers))
    # Buffers are packed by hand (16-byte aligned, one memcpy each); the rest by the object API.
    buffer_offsets = [_pack_buffer(builder, b) for b in raw_buffers]
    return _finish(builder, m, buffer_offsets, _crc(raw_buffers))


def _crc(buffers) -> int:
    c = 0
    for b in buffers:
        c = zlib.crc32(b, c)
    return c & 0xFFFFFFFF


def _finish(builder: flatbuffers.Builder, m: ModelT, buffer_offsets: list[int], crc: int) -> bytes:
    M = _Model
    name = builder.CreateString(m.name)
    tensors = [t.Pack(builder) for t in m.tensors]
    ops = [o.Pack(builder) for o in m.operators]
    ins = [d.Pack(builder) for d in m.inputs]
    outs = [d.Pack(builder) for d in m.outputs]
    prov = m.provenance.Pack(builder)
    plan = m.plan.Pack(builder)

    def vec(start, items):
        start(builder, len(items))
        for item in reversed(items):
            builder.PrependUOffsetTRelative(item)
        return builder.EndVector()

    tensors_v = vec(M.StartTensorsVector, tensors)
    ops_v = vec(M.StartOperatorsVector, ops)
    bufs_v = vec(M.StartBuffersVector, buffer_offsets)
    ins_v = vec(M.StartInputsVector, ins)
    outs_v = vec(M.StartOutputsVector, outs)
    M.Start(builder)
    M.AddVersion(builder, m.version)
    M.AddName(builder, name)
    M.AddTensors(builder, tensors_v)
    M.AddOperators(builder, ops_v)
    M.AddBuffers(builder, bufs_v)
    M.AddInputs(builder, ins_v)
    M.AddOutputs(builder, outs_v)
    M.AddArenaBytes(builder, m.arenaBytes)
    M.AddProvenance(builder, prov)
    M.AddPlan(builder, plan)
    M.AddBuffersCrc32(builder, crc)
    M.AddStateful(builder, m.stateful)
    root = M.End(builder)
    builder.FinishSizePrefixed(root, file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def save(model: EnnModel, path: str | os.PathLike) -> None:
    """Write atomically: a failed save leaves no partial file behind."""
    data = to_bytes(model)
    write_atomic(path, data)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------------- reading


def _s(b: bytes | str | None) -> str:
    if b is None:
        return ""
    return b.decode("utf-8") if isinstance(b, bytes) else b


def _ints(x) -> tuple[int, ...]:
    if x is None or isinstance(x, int):
        return ()
    return tuple(int(v) for v in x)


def _options_dict(obj) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if obj is None:
        return out
    for attr, value in vars(obj).items():
        key = _snake(attr)
        if isinstance(value, np.ndarray):
            value = value.astype(np.int32)
        elif isinstance(value, list):
            value = np.asarray(value, dtype=np.int32)
        elif value is None:
            value = np.zeros(0, np.int32)
        out[key] = value
    return out


def from_bytes(data: bytes, source: str = "<bytes>") -> EnnModel:
    """Parse .enn bytes, validating structure; raises ModelFormatError on any defect."""
    if len(data) < 12 or data[8:12] != FILE_IDENTIFIER:
        raise ModelFormatError(f"{source}: not an edgenn .enn file (missing 'ENN1' identifier)")
    (size,) = struct.unpack_from("<I", data, 0)
    if size + 4 != len(data):
        what = "truncated" if size + 4 > len(data) else "has trailing garbage"
        raise ModelFormatError(f"{source}: .enn file {what} ({len(data)} bytes, header says {size + 4})")
    try:
        root = _Model.Model.GetRootAs(data, 4)
        m = ModelT.InitFromObj(root)
    except Exception as e:  # flatbuffers raises assorted errors on corrupt input
        raise ModelFormatError(f"{source}: corrupt or truncated .enn file ({type(e).__name__})") from None
    if m.version != FORMAT_VERSION:
        raise ModelFormatError(f"{source}: .enn format version {m.version} is not supported (expected {FORMAT_VERSION})")
    for what, count, limit in (("tensors", len(m.tensors or []), limits.MAX_TENSORS),
                                ("operators", len(m.operators or []), limits.MAX_OPERATORS)):
        why = limits.count_problem(what, count, limit)
        if why:
            raise ModelFormatError(f"{source}: the model {why}")
    if not 0 <= m.arenaBytes <= limits.MAX_ARENA_BYTES:
        raise ModelFormatError(f"{source}: the model declares an arena of {m.arenaBytes:,} bytes (limit "
                               f"{limits.MAX_ARENA_BYTES:,}: damaged file?)")
    try:
        buffers = []
        for i in range(root.BuffersLength()):
            b = root.Buffers(i)
            buffers.append(b.DataAsNumpy() if b.DataLength() else np.zeros(0, np.uint8))
        if _crc(b.tobytes() for b in buffers) != root.BuffersCrc32():
            raise ModelFormatError(f"{source}: the weights are damaged (CRC-32 mismatch)")
        tensors = []
        for tt in m.tensors or []:
            dtype = _DTYPE_NAMES.get(tt.dtype)
            if dtype is None:
                raise ModelFormatError(f"{source}: tensor {_s(tt.name)!r} has unknown dtype {tt.dtype}")
            shape = _ints(tt.shape)
            why = limits.tensor_problem(shape, np.dtype(dtype).itemsize)
            if why:
                raise ModelFormatError(f"{source}: tensor {_s(tt.name)!r} {why}")
            data_arr = None
            if not 0 <= tt.encoding < len(weight_codecs.ENCODINGS):
                raise ModelFormatError(f"{source}: tensor {_s(tt.name)!r} has unknown weight encoding {tt.encoding} "
                                       "(file from a newer edgenn?)")
            encoding = weight_codecs.ENCODINGS[tt.encoding]
            encoded = None
            initial = None
            if encoding != weight_codecs.RAW and (tt.buffer < 0 or dtype != "int8"):
                raise ModelFormatError(f"{source}: tensor {_s(tt.name)!r} is {encoding}-encoded but not an int8 constant")
            if tt.buffer >= 0:
                if tt.buffer >= len(buffers):
                    raise ModelFormatError(f"{source}: tensor {_s(tt.name)!r} refers to missing buffer {tt.buffer}")
                raw = buffers[tt.buffer]
                want = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
                if tt.variable:
                    if encoding != weight_codecs.RAW or raw.size != want:
                        raise ModelFormatError(f"{source}: state tensor {_s(tt.name)!r} has a damaged initial value "
                                               f"({raw.size} bytes, shape {shape} needs {want})")
                    initial = np.frombuffer(raw.tobytes(), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
                    initial = initial.reshape(shape)
                elif encoding != weight_codecs.RAW:
                    encoded = raw.tobytes()
                    if want > 8 * len(encoded) + 64:  # both codecs spend at least one bit per value
                        raise ModelFormatError(f"{source}: tensor {_s(tt.name)!r} declares {want:,} values in a "
                                               f"{len(encoded):,}-byte {encoding} stream (damaged file?)")
                    try:
                        values = weight_codecs.decode(encoding, encoded, want)
                    except ModelFormatError as e:
                        raise ModelFormatError(f"{source}: tensor {_s(tt.name)!r}: {e}") from None
                    data_arr = values.reshape(shape)
                else:
                    if raw.size != want:
                        raise ModelFormatError(
                            f"{source}: tensor {_s(tt.name)!r} has {raw.size} data bytes, shape {shape} needs {want}")
                    data_arr = np.frombuffer(raw.tobytes(), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
                    data_arr = data_arr.reshape(shape)
            tensors.append(EnnTensor(
                name=_s(tt.name), shape=shape, dtype=dtype,
                scale=np.asarray(tt.scale if tt.scale is not None and not isinstance(tt.scale, int) else [], np.float32),
                zero_point=np.asarray(tt.zeroPoint if tt.zeroPoint is not None and not isinstance(tt.zeroPoint, int) else [], np.int64),
                quant_axis=int(tt.quantAxis), data=data_arr, arena_offset=int(tt.arenaOffset), nbytes=int(tt.nbytes),
                encoding=encoding, encoded=encoded, variable=bool(tt.variable), initial=initial))
        ops = []
        for o in m.operators or []:
            name = _OPTYPE_NAMES.get(o.type)
            if name is None:
                raise ModelFormatError(f"{source}: operator {_s(o.name)!r} has unknown type {o.type} (file from a newer edgenn?)")
            # Absent options are the schema's defaults (as FlatBuffers reads absent fields); another
            # operator's options table is a corrupt file, not options with missing keys.
            if o.options is not None and not isinstance(o.options, _options_class(name)):
                raise ModelFormatError(f"{source}: operator {_s(o.name)!r} ({name}) carries the options of another "
                                       "operator type")
            options = _options_dict(o.options if o.options is not None else _options_class(name)())
            ops.append(EnnOp(type=name, name=_s(o.name), inputs=list(_ints(o.inputs)), outputs=list(_ints(o.outputs)),
                             options=options, scratch_offset=int(o.scratchOffset),
                             scratch_bytes=int(o.scratchBytes), macs=int(o.macs)))

        def io(d) -> EnnIO:
            return EnnIO(tensor=int(d.tensor), source_name=_s(d.sourceName), source_shape=_ints(d.sourceShape),
                         to_internal_perm=_ints(d.toInternalPerm))

        prov = {}
        if m.provenance is not None:
            prov = {_snake(k): _s(v) for k, v in vars(m.provenance).items()}
        plan: dict[str, Any] = {}
        if m.plan is not None:
            plan = {"planner": _s(m.plan.planner), "lower_bound_bytes": int(m.plan.lowerBoundBytes),
                    "order": list(_ints(m.plan.order))}
        model = EnnModel(name=_s(m.name), tensors=tensors, ops=ops, inputs=[io(d) for d in m.inputs or []],
                         outputs=[io(d) for d in m.outputs or []], arena_bytes=int(m.arenaBytes),
                         provenance=prov, plan=plan, version=int(m.version), stateful=bool(m.stateful))
    except ModelFormatError:
        raise
    except Exception as e:
        raise ModelFormatError(f"{source}: corrupt or truncated .enn file ({type(e).__name__}: {e})") from None
    validate(model, source)
    return model


def validate(model: EnnModel, source: str = "<model>") -> None:
    """Structural checks so that a damaged file fails here, not inside a kernel."""
    n = len(model.tensors)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", model.name or ""):
        raise ModelFormatError(f"{source}: model name {model.name!r} is not a C identifier")
    if not model.inputs or not model.outputs:
        raise ModelFormatError(f"{source}: model has no inputs or no outputs")
    for op in model.ops:
        for i in op.inputs + op.outputs:
            if i < -1 or i >= n:
                raise ModelFormatError(f"{source}: operator {op.name!r} refers to tensor {i} of {n}")
        if op.scratch_bytes and (op.scratch_offset < 0 or op.scratch_offset + op.scratch_bytes > model.arena_bytes):
            raise ModelFormatError(f"{source}: operator {op.name!r} scratch lies outside the arena")
        try:
            weight_codecs.kernel_scratch_bytes(model, op)
        except ModelFormatError as e:
            raise ModelFormatError(f"{source}: {e}") from None
    for d in model.inputs + model.outputs:
        if not 0 <= d.tensor < n:
            raise ModelFormatError(f"{source}: input/output refers to tensor {d.tensor} of {n}")
        t = model.tensors[d.tensor]
        if t.data is not None or t.arena_offset < 0:
            raise ModelFormatError(f"{source}: input/output {t.name!r} must be an activation with an arena offset")
        if d.source_shape and math.prod(d.source_shape) != t.size:
            raise ModelFormatError(f"{source}: input/output {t.name!r} has {t.size} values, its source shape "
                                   f"{tuple(d.source_shape)} has {math.prod(d.source_shape)}")
    for t in model.tensors:
        if any(s <= 0 for s in t.shape):
            raise ModelFormatError(f"{source}: tensor {t.name!r} has a non-positive dimension {t.shape}")
        if t.data is None and t.dtype not in ACTIVATION_DTYPES:
            raise ModelFormatError(f"{source}: activation {t.name!r} has dtype {t.dtype}; activations are "
                                   f"{', '.join(ACTIVATION_DTYPES)}")
        if t.variable and (t.data is not None or t.arena_offset < 0):
            raise ModelFormatError(f"{source}: state tensor {t.name!r} must be an activation with an arena offset")
        if t.data is None and t.arena_offset >= 0:
            need = t.size * np.dtype(t.dtype).itemsize
            if t.arena_offset + need > model.arena_bytes:
                raise ModelFormatError(f"{source}: tensor {t.name!r} lies outside the arena")


def load(path: str | os.PathLike) -> EnnModel:
    """Read an .enn file."""
    p = Path(path)
    data = read_file(p)
    return from_bytes(data, str(p))
