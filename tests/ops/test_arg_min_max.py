"""arg_min_max: Python kernel == C kernel byte for byte (int32 and int64 indices), == a naive
transliteration of TFLM's ArgMinMax (and ONNX's select_last_index), == TFLM's ARG_MAX / ARG_MIN."""
from __future__ import annotations

import numpy as np
import pytest

from common import judge_against_tflm, rand_scale, rand_zp, reduce_tflite, unquantized
from harness import Case, T, build_model, check_cases
from edgenn.converter.tflite_import import convert_tflite_bytes
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, dtypes=("int32", "int64"), select_last=(False, True)) -> Case:
    rank = int(rng.integers(1, 6))
    shape = tuple(int(v) for v in rng.integers(1, 9 if rank < 4 else 6, size=rank))
    if rng.random() < 0.15:  # a classifier's logits: (1, classes)
        shape = (1, int(rng.integers(2, 1001)))
    axis = int(rng.integers(0, len(shape)))
    keep = bool(rng.integers(0, 2))
    out = tuple(1 if i == axis else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i != axis)
    return Case("arg_min_max", [T(shape, rand_scale(rng), rand_zp(rng))],
                [T(out or (1,), **unquantized(str(rng.choice(dtypes))))],
                {"axis": axis, "is_arg_max": bool(rng.integers(0, 2)),
                 "select_last_index": bool(rng.choice(select_last))})


def naive(x: np.ndarray, axis: int, is_max: bool, last: bool) -> np.ndarray:
    """reference_ops::ArgMinMax: per (outer, inner) a scan keeping the first strict improvement
    (select_last_index: also an equal value)."""
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    v = x.reshape(outer, x.shape[axis], inner).astype(int)
    res = np.zeros((outer, inner), np.int64)
    for o in range(outer):
        for i in range(inner):
            best, k_best = v[o, 0, i], 0
            for k in range(1, x.shape[axis]):
                c = v[o, k, i]
                better = c > best if is_max else c < best
                if better or (last and c == best):
                    best, k_best = c, k
            res[o, i] = k_best
    return res.reshape(-1)


def test_arg_min_max_random_cases():
    rng = np.random.default_rng(3601)
    cases = [random_case(rng) for _ in range(220)]
    assert {c.outputs[0].dtype for c in cases} == {"int32", "int64"}
    stats = check_cases(cases, samples=4)  # samples 0 and 1 are constant: every position ties
    assert stats["cases"] == 220


def test_arg_min_max_python_matches_naive_with_ties():
    rng = np.random.default_rng(3602)
    for k in range(60):
        c = random_case(rng)
        x = rng.integers(-2, 3, size=(3,) + c.inputs[0].shape).astype(np.int8)  # few values: many ties
        got = Interpreter(build_model(c, f"n{k}")).invoke(x)[0]
        assert got.dtype == np.dtype(c.outputs[0].dtype)
        for s in range(3):
            want = naive(x[s], c.attrs["axis"], c.attrs["is_arg_max"], c.attrs["select_last_index"])
            assert np.array_equal(got[s].reshape(-1), want), f"case {k} {c.attrs}"


@pytest.mark.parametrize("code", ["ARG_MAX", "ARG_MIN"])
def test_arg_min_max_matches_tflm(code):
    rng = np.random.default_rng(3603 if code == "ARG_MAX" else 3604)
    cases = []
    for _ in range(30):
        c = random_case(rng, dtypes=("int32",), select_last=(False,))
        c.attrs["is_arg_max"] = code == "ARG_MAX"
        y = c.outputs[0]
        x_shape = c.inputs[0].shape
        y.shape = tuple(d for i, d in enumerate(x_shape) if i != c.attrs["axis"])  # TFLite drops the axis
        if not y.shape:
            continue
        cases.append(c)
    opts = "ArgMaxOptions" if code == "ARG_MAX" else "ArgMinOptions"

    def to_tflite(c, code):
        from tflite.TensorType import TensorType
        return reduce_tflite(c, code, opts, {"OutputType": TensorType.INT32})
    assert judge_against_tflm(cases, code, to_tflite) == len(cases) >= 25


def test_tflite_int64_indices_are_refused_naming_tflm():
    from tflite.TensorType import TensorType

    c = Case("arg_min_max", [T((1, 10), 0.1, 0)], [T((1,), **unquantized("int64"))], {"axis": 1})
    data = reduce_tflite(c, "ARG_MAX", "ArgMaxOptions", {"OutputType": TensorType.INT64})
    with pytest.raises(UnsupportedOpError, match="int32 indices only"):
        convert_tflite_bytes(data, "t")


def test_arg_min_max_checks_its_output():
    c = Case("arg_min_max", [T((2, 5), 0.1, 0)], [T((2,), 0.1, 0)], {"axis": 1})
    with pytest.raises(EdgennError, match="unquantized int32 or int64"):
        build_model(c, "bad")
    c = Case("arg_min_max", [T((2, 5), 0.1, 0)], [T((5,), **unquantized("int32"))], {"axis": 1})
    with pytest.raises(EdgennError, match="does not match"):
        build_model(c, "bad")
