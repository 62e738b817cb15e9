"""Build small .tflite flatbuffers for tests (with the `tflite` package's generated builders).

Used to make single-operator int8 models that TFLM (the `tflite-micro` package) can run, so
that each edgenn kernel is judged against TFLM itself, and to make malformed or unsupported
models for the importer's error tests.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.TensorType import TensorType

TYPES = {"int8": TensorType.INT8, "int32": TensorType.INT32, "float32": TensorType.FLOAT32,
         "int16": TensorType.INT16, "uint8": TensorType.UINT8, "int64": TensorType.INT64, "bool": TensorType.BOOL,
         "float16": TensorType.FLOAT16}


@dataclass
class TfTensor:
    name: str
    shape: tuple[int, ...]
    dtype: str = "int8"
    scale: Any = None  # float or array; None = not quantized
    zero_point: Any = 0
    axis: int = 0
    data: np.ndarray | None = None
    variable: bool = False  # a variable (state) tensor: LSTM / SVDF state


@dataclass
class TfOp:
    code: str  # BuiltinOperator name, e.g. "FULLY_CONNECTED"
    inputs: list[int]
    outputs: list[int]
    options: str | None = None  # options table name, e.g. "FullyConnectedOptions"
    fields: dict[str, Any] = field(default_factory=dict)  # CamelCase field -> value
    version: int = 1


def _vec_int(builder, start_fn, values, prepend="PrependInt32"):
    start_fn(builder, len(values))
    for v in reversed(list(values)):
        getattr(builder, prepend)(int(v))
    return builder.EndVector()


def build(tensors: list[TfTensor], ops: list[TfOp], inputs: list[int], outputs: list[int]) -> bytes:
    """Serialize a one-subgraph TFLite model."""
    b = flatbuffers.Builder(1024)
    mod = importlib.import_module
    B, M, O, OC = mod("tflite.Buffer"), mod("tflite.Model"), mod("tflite.Operator"), mod("tflite.OperatorCode")
    Q, S, T = mod("tflite.QuantizationParameters"), mod("tflite.SubGraph"), mod("tflite.Tensor")

    # Buffers: 0 is the empty sentinel.
    buf_offsets = []
    datas = [None] + [t.data for t in tensors if t.data is not None]
    for d in datas:
        if d is None:
            B.BufferStart(b)
            buf_offsets.append(B.BufferEnd(b))
            continue
        raw = np.ascontiguousarray(d).tobytes()
        b.StartVector(1, len(raw), 16)
        b.head = b.head - len(raw)
        b.Bytes[b.head:b.head + len(raw)] = raw
        b.vectorNumElems = len(raw)
        vec = b.EndVector()
        B.BufferStart(b)
        B.BufferAddData(b, vec)
        buf_offsets.append(B.BufferEnd(b))

    t_offsets = []
    next_buf = 1
    for t in tensors:
        name = b.CreateString(t.name)
        shape = _vec_int(b, T.TensorStartShapeVector, t.shape)
        q = None
        if t.scale is not None:
            scales = np.atleast_1d(np.asarray(t.scale, np.float32))
            zps = np.atleast_1d(np.asarray(t.zero_point, np.int64))
            if zps.size == 1 and scales.size > 1:
                zps = np.zeros(scales.size, np.int64) + zps[0]
            sv = b.CreateNumpyVector(scales)
            zv = b.CreateNumpyVector(zps)
            Q.QuantizationParametersStart(b)
            Q.QuantizationParametersAddScale(b, sv)
            Q.QuantizationParametersAddZeroPoint(b, zv)
            Q.QuantizationParametersAddQuantizedDimension(b, t.axis)
            q = Q.QuantizationParametersEnd(b)
        T.TensorStart(b)
        T.TensorAddShape(b, shape)
        T.TensorAddType(b, TYPES[t.dtype])
        if t.data is not None:
            T.TensorAddBuffer(b, next_buf)
            next_buf += 1
        else:
            T.TensorAddBuffer(b, 0)
        T.TensorAddName(b, name)
        if t.variable:
            T.TensorAddIsVariable(b, True)
        if q is not None:
            T.TensorAddQuantization(b, q)
        t_offsets.append(T.TensorEnd(b))

    codes: list[tuple[str, int]] = []
    for op in ops:
        if (op.code, op.version) not in codes:
            codes.append((op.code, op.version))
    code_offsets = []
    for code, version in codes:
        value = getattr(BuiltinOperator, code)
        OC.OperatorCodeStart(b)
        OC.OperatorCodeAddDeprecatedBuiltinCode(b, min(value, 127))
        OC.OperatorCodeAddBuiltinCode(b, value)
        OC.OperatorCodeAddVersion(b, version)
        code_offsets.append(OC.OperatorCodeEnd(b))

    op_offsets = []
    for op in ops:
        opt = None
        if op.options:
            mod = importlib.import_module(f"tflite.{op.options}")
            vectors = {}
            for k, v in op.fields.items():
                if isinstance(v, (list, tuple, np.ndarray)):
                    vectors[k] = _vec_int(b, getattr(mod, f"{op.options}Start{k}Vector"), v)
            getattr(mod, f"{op.options}Start")(b)
            for k, v in op.fields.items():
                getattr(mod, f"{op.options}Add{k}")(b, vectors.get(k, v))
            opt = getattr(mod, f"{op.options}End")(b)
        ins = _vec_int(b, O.OperatorStartInputsVector, op.inputs)
        outs = _vec_int(b, O.OperatorStartOutputsVector, op.outputs)
        O.OperatorStart(b)
        O.OperatorAddOpcodeIndex(b, codes.index((op.code, op.version)))
        O.OperatorAddInputs(b, ins)
        O.OperatorAddOutputs(b, outs)
        if opt is not None:
            O.OperatorAddBuiltinOptionsType(b, getattr(BuiltinOptions, op.options))
            O.OperatorAddBuiltinOptions(b, opt)
        op_offsets.append(O.OperatorEnd(b))

    def vec_tables(start_fn, items):
        start_fn(b, len(items))
        for it in reversed(items):
            b.PrependUOffsetTRelative(it)
        return b.EndVector()

    tv = vec_tables(S.SubGraphStartTensorsVector, t_offsets)
    ov = vec_tables(S.SubGraphStartOperatorsVector, op_offsets)
    iv = _vec_int(b, S.SubGraphStartInputsVector, inputs)
    outv = _vec_int(b, S.SubGraphStartOutputsVector, outputs)
    sname = b.CreateString("main")
    S.SubGraphStart(b)
    S.SubGraphAddTensors(b, tv)
    S.SubGraphAddInputs(b, iv)
    S.SubGraphAddOutputs(b, outv)
    S.SubGraphAddOperators(b, ov)
    S.SubGraphAddName(b, sname)
    sg = S.SubGraphEnd(b)

    codes_v = vec_tables(M.ModelStartOperatorCodesVector, code_offsets)
    sg_v = vec_tables(M.ModelStartSubgraphsVector, [sg])
    bufs_v = vec_tables(M.ModelStartBuffersVector, buf_offsets)
    desc = b.CreateString("edgenn test model")
    M.ModelStart(b)
    M.ModelAddVersion(b, 3)
    M.ModelAddOperatorCodes(b, codes_v)
    M.ModelAddSubgraphs(b, sg_v)
    M.ModelAddDescription(b, desc)
    M.ModelAddBuffers(b, bufs_v)
    b.Finish(M.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def run_tflm(model: bytes, inputs: list[np.ndarray], arena_size: int = 1 << 20) -> list[np.ndarray]:
    """Run TFLM (reference kernels) once per sample; inputs are (N, *shape)."""
    from tflite_micro import runtime

    import tflite

    n_out = tflite.Model.GetRootAs(model, 0).Subgraphs(0).OutputsLength()
    it = runtime.Interpreter.from_bytes(model, arena_size=arena_size)
    n = inputs[0].shape[0]
    outs: list[list[np.ndarray]] = [[] for _ in range(n_out)]
    for s in range(n):
        for k, x in enumerate(inputs):
            it.set_input(x[s], k)
        it.invoke()
        for k in range(n_out):
            outs[k].append(np.array(it.get_output(k)))
    return [np.stack(o) for o in outs]


def assert_same_as_tflm(name: str, backend: str, got: list[np.ndarray], want: list[np.ndarray]) -> None:
    """Every output of ``backend`` byte-identical to TFLM's (``want``), or an assertion naming the first that is not."""
    assert len(got) == len(want), f"{name}: {backend} gives {len(got)} outputs, TFLM {len(want)}"
    for k, (a, b) in enumerate(zip(got, want)):
        assert a.shape == b.shape, f"{name} output {k}: {backend} shape {a.shape}, TFLM {b.shape}"
        diff = int(np.count_nonzero(a != b))
        assert diff == 0, f"{name} output {k}: {backend} differs from TFLM in {diff} of {a.size} bytes"
