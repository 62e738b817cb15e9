"""reduce_max_min: Python kernel == C kernel byte for byte, == a naive transliteration of TFLM's
ReduceGeneric, == TFLM's REDUCE_MAX, REDUCE_MIN and REDUCE_ALL (bool)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from common import judge_against_tflm, rand_scale, rand_zp, reduce_tflite, reduction_case_shape, unquantized
from harness import Case, T, build_model, check_cases
from edgenn.errors import UnsupportedOpError
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, is_bool: bool = False, max_rank: int = 5) -> Case:
    if rng.random() < 0.25:  # global max pooling over H, W of NHWC
        shape, axes = (1, int(rng.integers(1, 13)), int(rng.integers(1, 13)), int(rng.integers(1, 33))), [1, 2]
    else:
        shape, axes = reduction_case_shape(rng, max_rank)
    keep = bool(rng.integers(0, 2))
    out = tuple(1 if i in axes else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in axes)
    if is_bool:
        x, y = T(shape, **unquantized("bool")), T(out or (1,), **unquantized("bool"))
    else:
        s, z = rand_scale(rng), rand_zp(rng)
        x, y = T(shape, s, z), T(out or (1,), s, z)
    return Case("reduce_max_min", [x], [y], {"axes": axes, "keep_dims": keep,
                                            "is_max": False if is_bool else bool(rng.integers(0, 2))})


def naive(x: np.ndarray, axes, is_max: bool) -> np.ndarray:
    """ReduceGeneric: output initialised to the type's lowest (max) / highest (min), then one
    comparison per input element in input order."""
    out = {}
    init = -128 if is_max else 127
    for idx in itertools.product(*(range(d) for d in x.shape)):
        key = tuple(v for i, v in enumerate(idx) if i not in axes)
        cur, v = out.get(key, init), int(x[idx])
        out[key] = (v if v > cur else cur) if is_max else (v if v < cur else cur)
    return np.asarray([out[k] for k in sorted(out)], np.int64)


def test_reduce_max_min_random_cases():
    rng = np.random.default_rng(3701)
    cases = [random_case(rng) for _ in range(200)] + [random_case(rng, is_bool=True) for _ in range(20)]
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_reduce_max_min_python_matches_naive():
    rng = np.random.default_rng(3702)
    for k in range(50):
        c = random_case(rng, max_rank=4)
        x = rng.integers(-128, 128, size=(2,) + c.inputs[0].shape).astype(np.int8)
        got = Interpreter(build_model(c, f"n{k}")).invoke(x)[0]
        for s in range(2):
            want = naive(x[s], c.attrs["axes"], c.attrs["is_max"])
            assert np.array_equal(got[s].reshape(-1), want), f"case {k} {c.attrs}"


@pytest.mark.parametrize("code", ["REDUCE_MAX", "REDUCE_MIN", "REDUCE_ALL"])
def test_reduce_max_min_matches_tflm(code):
    rng = np.random.default_rng({"REDUCE_MAX": 3703, "REDUCE_MIN": 3704, "REDUCE_ALL": 3705}[code])
    cases = []
    for _ in range(30):
        c = random_case(rng, is_bool=code == "REDUCE_ALL")
        c.attrs["is_max"] = code == "REDUCE_MAX"
        cases.append(c)
    assert judge_against_tflm(cases, code, reduce_tflite) == 30


def test_tflite_reduce_max_with_requantization_is_refused():
    from edgenn.converter.tflite_import import convert_tflite_bytes

    c = Case("reduce_max_min", [T((2, 5), 0.1, 0)], [T((2,), 0.2, 0)], {"axes": [1]})
    with pytest.raises(UnsupportedOpError, match="requires them equal"):
        convert_tflite_bytes(reduce_tflite(c, "REDUCE_MAX"), "t")
