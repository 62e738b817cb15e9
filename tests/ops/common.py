"""Helpers shared by the op tests: random quantization parameters and shapes, and TFLM as judge
of single-operator .tflite models (tflite_builder builds them, TFLM runs them, and edgenn's
runtime_py and host C must produce the same bytes)."""
from __future__ import annotations

import numpy as np

from harness import Case, build_model, judge_tflite, random_inputs, random_values, run_c_host
from edgenn.runtime_py.interpreter import Interpreter

ACTS = [(None, None), (0.0, None), (0.0, 6.0), (-1.0, 1.0)]  # none, ReLU, ReLU6, ReLU-1..1
TFL_ACT = {(None, None): 0, (0.0, None): 1, (-1.0, 1.0): 2, (0.0, 6.0): 3}  # FusedActivationFunction


def rand_zp(rng) -> int:
    """A zero point, the ends of the int8 range and 0 often."""
    return int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))


def rand_scale(rng, lo=1e-3, hi=1.0) -> float:
    """A scale, log-uniform in [lo, hi]."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def rand_shape(rng, max_rank: int = 5, max_dim: int = 7) -> tuple[int, ...]:
    r = int(rng.integers(1, max_rank + 1))
    return tuple(int(rng.integers(1, max_dim + 1)) for _ in range(r))


def edgenn_model(data: bytes, case: Case, name: str):
    """edgenn's model of a .tflite: through the TFLite importer when it exists, else the case."""
    try:
        from edgenn.converter.tflite_import import convert_tflite_bytes
    except ImportError:
        return build_model(case, name)
    return convert_tflite_bytes(data, name)


def judge_against_tflm(cases: list[Case], code: str, to_tflite_fn, samples: int = 4, seed: int = 0) -> int:
    """TFLM output == runtime_py output == host C output, byte for byte, for every case."""
    from tflite_builder import run_tflm

    rng = np.random.default_rng(seed)
    models, inputs, tflm_out = [], [], []
    for i, c in enumerate(cases):
        data = to_tflite_fn(c, code)
        m = edgenn_model(data, c, f"t{i}")
        acts = [t for t in c.inputs if t is not None and t.data is None]
        xs = [random_values(rng, t.dtype, (samples,) + t.shape) for t in acts]
        k = next((j for j, t in enumerate(acts) if t.dtype == "int8"), 0)  # the first int8 input sees the extremes
        lo, hi = (-128, 127) if acts[k].dtype == "int8" else (False, True)
        xs[k][0] = lo
        xs[k][1] = hi
        want = run_tflm(data, xs)
        got = Interpreter(m).invoke(*xs)
        assert len(want) == len(got), f"case {i}: TFLM has {len(want)} outputs, edgenn {len(got)}"
        for k, (w, y) in enumerate(zip(want, got)):  # every output (split, unpack: several)
            assert np.array_equal(w.reshape(y.shape), y), (
                f"case {i} ({code} {[t.shape for t in c.inputs]} attrs {c.attrs}): output {k}: TFLM and runtime_py "
                f"differ at {np.argwhere(w.reshape(y.shape) != y)[:3].tolist()}")
        models.append(m)
        inputs.append(xs)
        tflm_out.append(want)
    assert_host_c_equals(models, inputs, tflm_out, "TFLM")
    return len(cases)


def assert_host_c_equals(models: list, inputs: list[list[np.ndarray]], wants: list[list[np.ndarray]], judge: str) -> None:
    """The models compiled for the host (one program) produce ``wants`` (every output of every case)."""
    import shutil
    import tempfile
    from pathlib import Path

    work = Path(tempfile.mkdtemp(prefix="edgenn-judge-"))
    try:
        c_out = run_c_host(models, inputs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for i, (want, got) in enumerate(zip(wants, c_out)):
        assert len(want) == len(got), f"case {i}: {judge} has {len(want)} outputs, C {len(got)}"
        for k, (w, g) in enumerate(zip(want, got)):
            assert np.array_equal(np.asarray(w).reshape(g.shape), g), f"case {i}: output {k}: {judge} and C differ"


def unary_tflite(code: str, shape: tuple[int, ...], x_q: tuple[float, int], y_q: tuple[float, int],
                 options: str | None = None, fields: dict | None = None) -> bytes:
    """A single-operator int8 .tflite of an elementwise activation."""
    from tflite_builder import TfOp, TfTensor, build

    return build([TfTensor("x", shape, "int8", *x_q), TfTensor("y", shape, "int8", *y_q)],
                 [TfOp(code, [0], [1], options, fields or {})], [0], [1])


def judge_unary(datas: list[bytes], seed: int = 0, samples: int = 4) -> int:
    """TFLM == runtime_py == host C for every .tflite in ``datas``; every case sees the extremes (all
    -128, all 127) and every int8 value (cycled over its shape). Returns the number of cases."""
    from edgenn.converter.tflite_import import convert_tflite_bytes

    rng = np.random.default_rng(seed)
    cases = []
    for i, data in enumerate(datas):
        xs = random_inputs(convert_tflite_bytes(data, f"t{i}"), samples, rng)
        xs[0][2] = np.resize(np.arange(-128, 128, dtype=np.int16).astype(np.int8), xs[0].shape[1:])
        cases.append((data, xs))
    return judge_tflite(cases)


def rearrange_tflite(case: Case, code: str) -> bytes:
    """A single-operator .tflite of a TFLite operator edgenn imports as a chain of byte-moving operators:
    DEPTH_TO_SPACE / SPACE_TO_DEPTH (attrs block), SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND (block, pads)
    or PACK (axis)."""
    from tflite_builder import TfOp, TfTensor, build

    a = case.attrs
    ins = [TfTensor(f"x{i}", t.shape, "int8", t.scale, t.zero_point) for i, t in enumerate(case.inputs)]
    y = case.outputs[0]
    n = len(ins)
    tensors = ins + [TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    if code in ("DEPTH_TO_SPACE", "SPACE_TO_DEPTH"):
        opts = "DepthToSpaceOptions" if code == "DEPTH_TO_SPACE" else "SpaceToDepthOptions"
        return build(tensors, [TfOp(code, [0], [1], opts, {"BlockSize": a["block"]})], [0], [1])
    if code == "PACK":
        return build(tensors, [TfOp("PACK", list(range(n)), [n], "PackOptions", {"ValuesCount": n, "Axis": a["axis"]})],
                     list(range(n)), [n])
    block = np.asarray(a["block"], np.int32)
    pads = np.asarray(a["pads"], np.int32).reshape(-1, 2)
    tensors += [TfTensor("block", block.shape, "int32", data=block), TfTensor("pads", pads.shape, "int32", data=pads)]
    opts = "SpaceToBatchNDOptions" if code == "SPACE_TO_BATCH_ND" else "BatchToSpaceNDOptions"
    return build(tensors, [TfOp(code, [0, 2, 3], [1], opts)], [0], [1])


def unquantized(dtype: str) -> dict:
    """The keyword arguments of an unquantized (bool or integer) harness tensor T."""
    return dict(dtype=dtype, scale=np.zeros(0, np.float32), zero_point=np.zeros(0, np.int64))


def reduction_case_shape(rng, max_rank: int = 5, max_dim: int = 7) -> tuple[tuple[int, ...], list[int]]:
    """A random shape and a random non-empty set of its axes (sorted)."""
    rank = int(rng.integers(1, max_rank + 1))
    shape = tuple(int(v) for v in rng.integers(1, max_dim + 1, size=rank))
    k = int(rng.integers(1, rank + 1))
    return shape, sorted(int(a) for a in rng.choice(rank, size=k, replace=False))


def reduce_tflite(case: Case, code: str, options: str = "ReducerOptions", fields: dict | None = None,
                  axes: list[int] | None = None, out_dtype: str | None = None) -> bytes:
    """A single-operator .tflite of a TFLite reduction (MEAN, SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL,
    ARG_MAX, ARG_MIN, CUMSUM): input 0, a constant int32 axes tensor, one output."""
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    ax = np.asarray(case.attrs.get("axes", [case.attrs.get("axis", 0)]) if axes is None else axes, np.int32)
    if code in ("ARG_MAX", "ARG_MIN", "CUMSUM"):
        ax = ax.reshape(-1)[:1]
    q = lambda t: (t.scale, t.zero_point) if t.dtype == "int8" else (None, 0)
    return build([TfTensor("x", x.shape, x.dtype, *q(x)), TfTensor("axes", ax.shape, "int32", data=ax),
                  TfTensor("y", y.shape, out_dtype or y.dtype, *q(y))],
                 [TfOp(code, [0, 1], [2], options, fields if fields is not None else
                       {"KeepDims": bool(case.attrs.get("keep_dims", False))})], [0], [2])
