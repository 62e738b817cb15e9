#!/usr/bin/env python3
"""Structure-aware fuzzing of the whole ONNX conversion: valid models, one field changed at a time.

    python tests/fuzz/onnx_mutate.py [--runs N] [--seed K] [--keep DIR]

Byte-level fuzzing (run.py's `onnx` target) mostly produces files that protobuf or ONNX's checker
reject before edgenn sees a graph. Here each case is a parsed seed model (the ONNX corpus, the
examples' recurrent, transformer and keyword-spotting models, and the zoo's smaller fixtures, rebuilt) with one structural change: an attribute set to an edge value, a
node input dropped or repeated, an operator type swapped, a node removed, an initializer's shape,
type or values changed (NaN, Inf, huge), a graph input's dimensions changed. The model then goes
through `edgenn convert`'s whole pipeline (import, calibration on random data, quantization,
lowering, the load-time checks) and, when it converts, one inference in runtime_py.

A case passes when it converts or is refused with an EdgennError (the one-line user errors). Any
other exception, or a case over TIMEOUT_S seconds, is a finding: printed with its mutation, and the
mutated model saved to --keep. Exit status 0: no finding.
"""
from __future__ import annotations

import argparse
import copy
import signal
import sys
import tempfile
import traceback
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

TIMEOUT_S = 60
EDGE_INTS = [0, 1, -1, 2, 3, 7, 64, 1 << 20, (1 << 31) - 1, -(1 << 31), (1 << 62)]
EDGE_FLOATS = [0.0, -1.0, 1e-30, 1e30, float("nan"), float("inf"), -float("inf")]
SWAP_OPS = ["Relu", "Add", "Mul", "Conv", "MaxPool", "AveragePool", "Reshape", "Transpose", "Concat", "Softmax",
            "Gemm", "MatMul", "Flatten", "Sigmoid", "Slice", "Resize", "ReduceMean", "Pad", "Clip", "Split",
            "GlobalAveragePool", "BatchNormalization", "ConvTranspose", "Gather", "LayerNormalization"]


def seeds() -> list[onnx.ModelProto]:
    """The ONNX fuzz corpus, the examples and the zoo fixtures small enough to convert in a second or two."""
    from zoo import models as zoo

    examples = HERE.parent.parent / "examples"
    res = [onnx.load(str(p)) for p in sorted((HERE / "corpus" / "onnx").glob("*.onnx"))]
    # The examples' recurrent (GRU, LSTM), transformer (opset 17 and its decomposed opset-14 export)
    # and keyword-spotting models: their operators' import paths too.
    res += [onnx.load(str(examples / p)) for p in ("digits_gru/model.onnx", "digits_gru/lstm.onnx",
                                                  "digits_transformer/model.onnx",
                                                  "digits_transformer/model_opset14.onnx", "dscnn/model.onnx")]
    small = ["espcn", "unet_resize", "unet_transpose", "ssd_tiny", "resnet", "squeezenet"]
    with tempfile.TemporaryDirectory() as d:
        for name in small:
            res.append(onnx.load(str(zoo.materialize(zoo.fixtures()[name][13], Path(d)))))
    return res


def mutate(m: onnx.ModelProto, rng: np.random.Generator) -> str:
    """Change one field of ``m`` in place; returns what was changed."""
    g = m.graph
    nodes = [n for n in g.node if n.op_type != "Constant"]
    kind = rng.choice(["attr", "input", "optype", "delete", "init_shape", "init_values", "init_type", "graph_input"])
    if kind == "attr":
        cands = [(n, a) for n in nodes for a in n.attribute if a.type in (onnx.AttributeProto.INT,
                 onnx.AttributeProto.INTS, onnx.AttributeProto.FLOAT)]
        if cands:
            n, a = cands[rng.integers(len(cands))]
            if a.type == onnx.AttributeProto.INT:
                a.i = int(rng.choice(EDGE_INTS))
            elif a.type == onnx.AttributeProto.FLOAT:
                a.f = float(rng.choice(EDGE_FLOATS))
            elif len(a.ints):
                a.ints[int(rng.integers(len(a.ints)))] = int(rng.choice(EDGE_INTS))
            return f"{n.name or n.op_type}: attribute {a.name} -> {onnx.helper.get_attribute_value(a)}"
    if kind == "input" and nodes:
        n = nodes[rng.integers(len(nodes))]
        if len(n.input) and rng.random() < 0.5:
            k = int(rng.integers(len(n.input)))
            del n.input[k]
            return f"{n.name or n.op_type}: input {k} dropped"
        n.input.append(n.input[0] if len(n.input) else "")
        return f"{n.name or n.op_type}: an input repeated"
    if kind == "optype" and nodes:
        n = nodes[rng.integers(len(nodes))]
        old, n.op_type = n.op_type, str(rng.choice(SWAP_OPS))
        return f"{n.name}: {old} -> {n.op_type}"
    if kind == "delete" and nodes:
        n = nodes[rng.integers(len(nodes))]
        g.node.remove(n)
        return f"{n.name or n.op_type} removed"
    inits = list(g.initializer)
    if kind.startswith("init") and inits:
        t = inits[rng.integers(len(inits))]
        a = numpy_helper.to_array(t)
        if kind == "init_shape":
            dims = list(t.dims) or [1]
            dims[int(rng.integers(len(dims)))] = int(rng.choice([0, 1, 2, 3, 1 << 20]))
            del t.dims[:]
            t.dims.extend(dims)
            return f"initializer {t.name}: dims -> {dims} (data unchanged)"
        if kind == "init_values" and a.size and a.dtype.kind in "fi":
            b = a.copy().reshape(-1)
            b[int(rng.integers(b.size))] = rng.choice(EDGE_FLOATS) if a.dtype.kind == "f" else rng.choice(
                [0, -1, np.iinfo(a.dtype).max, np.iinfo(a.dtype).min])
            t.CopyFrom(numpy_helper.from_array(b.reshape(a.shape), t.name))
            return f"initializer {t.name}: one value -> edge value"
        if kind == "init_type":
            t.CopyFrom(numpy_helper.from_array(a.astype(rng.choice([np.float16, np.int64, np.int32, np.float64]))
                                               if a.size else a, t.name))
            return f"initializer {t.name}: type -> {onnx.TensorProto.DataType.Name(t.data_type)}"
    ins = [i for i in g.input if i.name not in {t.name for t in inits}]
    if ins:
        dims = ins[0].type.tensor_type.shape.dim
        if len(dims):
            d = dims[int(rng.integers(len(dims)))]
            v = int(rng.choice([0, 1, 2, 5, 1 << 16, -1]))
            d.Clear()
            if v < 0:
                d.dim_param = "n"
            else:
                d.dim_value = v
            return f"graph input {ins[0].name}: a dimension -> {v if v >= 0 else 'symbolic'}"
    return "nothing"


def calibration(m: onnx.ModelProto, rng: np.random.Generator) -> list[np.ndarray] | None:
    """Four random samples per graph input in its declared shape (None: a shape without sizes)."""
    inits = {t.name for t in m.graph.initializer}
    res = []
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        if any(d <= 0 for d in dims[1:]) or np.prod(dims[1:], dtype=np.int64) > 1 << 20:
            return None
        res.append(rng.normal(0, 1, [4] + dims[1:]).astype(np.float32))
    return res


class _Timeout(Exception):
    pass


def one(m: onnx.ModelProto, calib: list[np.ndarray] | None, work: Path) -> str:
    """Convert (and run once) a model: "converted" or "refused" (an EdgennError); anything else
    propagates."""
    from edgenn.converter.pipeline import ConvertOptions, convert
    from edgenn.errors import EdgennError
    from edgenn.runtime_py.interpreter import Interpreter

    p = work / "m.onnx"
    try:
        onnx.save(m, str(p))
    except Exception:  # not serializable (a value protobuf refuses): nothing for edgenn to read
        return "refused"
    try:
        model = convert(p, calib if calib is not None else [], ConvertOptions(progress=False))
        it = Interpreter(model)
        it.invoke(*[np.zeros((1,) + tuple(t.shape), t.dtype) for t in it.input_tensors])
    except EdgennError:
        return "refused"
    return "converted"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="save each finding's model here")
    args = ap.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(args.seed)
    base = seeds()
    findings = 0
    outcomes = {"converted": 0, "refused": 0}

    def alarm(*_):
        raise _Timeout()

    signal.signal(signal.SIGALRM, alarm)
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        for i in range(args.runs):
            m = copy.deepcopy(base[int(rng.integers(len(base)))])
            what = mutate(m, rng)
            calib = calibration(m, rng)
            signal.alarm(TIMEOUT_S)
            try:
                outcomes[one(m, calib, work)] += 1
            except _Timeout:
                findings += 1
                print(f"case {i}: HANG over {TIMEOUT_S} s after: {what}", flush=True)
            except Exception as e:  # a finding: not a one-line user error
                findings += 1
                tb = traceback.extract_tb(e.__traceback__)[-1]
                print(f"case {i}: {type(e).__name__}: {str(e)[:200]} at {Path(tb.filename).name}:{tb.lineno} "
                      f"after: {what}", flush=True)
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    onnx.save(m, str(args.keep / f"finding_{i}.onnx"))
            finally:
                signal.alarm(0)
            if (i + 1) % 200 == 0:
                print(f"{i + 1} cases, {findings} findings", file=sys.stderr, flush=True)
    print(f"{args.runs} cases: {outcomes['converted']} converted, {outcomes['refused']} refused with a "
          f"one-line error, {findings} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
