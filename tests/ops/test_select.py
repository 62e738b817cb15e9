"""select: Python kernel == C kernel byte for byte (three inputs broadcast, a bool condition
activation or constant), == numpy's where, == TFLM's SELECT_V2; SELECT (v1) is refused."""
from __future__ import annotations

import numpy as np
import pytest

from binary_cases import BOOL, rand_broadcast_shapes, to_tflite
from common import judge_against_tflm, rand_scale, rand_zp
from harness import Case, T, build_model, check_cases
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_rank: int = 5, constants: bool = True) -> Case:
    sx, sy, so = rand_broadcast_shapes(rng, max_rank)
    kind = int(rng.integers(0, 4))
    sc = so if kind == 0 else sx if kind == 1 else (1,) * len(so) if kind == 2 else \
        tuple(d if rng.random() < 0.5 else 1 for d in so)
    out = tuple(np.broadcast_shapes(sc, sx, sy))
    s, z = rand_scale(rng), rand_zp(rng)
    c, x, y = T(sc, **BOOL), T(sx, s, z), T(sy, s, z)
    which = int(rng.integers(0, 5)) if constants else 4
    if which == 0:  # a constant condition (ONNX Where on a mask)
        c.data = rng.integers(0, 2, size=sc).astype(bool)
    elif which in (1, 2):
        t = (x, y)[which - 1]
        t.data = rng.integers(-128, 128, size=t.shape).astype(np.int8)
    return Case("select", [c, x, y], [T(out, s, z)])


def test_select_random_cases():
    rng = np.random.default_rng(2401)
    cases = [random_case(rng) for _ in range(210)]
    assert any(c.inputs[0].data is not None for c in cases)
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_select_python_kernel_is_numpy_where():
    rng = np.random.default_rng(2402)
    for k in range(30):
        c = random_case(rng)
        model = build_model(c, f"n{k}")
        xs = [np.asarray(v) for v in (
            rng.integers(0, 2, size=(2,) + t.shape).astype(bool) if t.dtype == "bool" else
            rng.integers(-128, 128, size=(2,) + t.shape).astype(np.int8) for t in c.inputs if t.data is None)]
        got = Interpreter(model).invoke(*xs)[0]
        it = iter(xs)
        vals = [t.data[None] if t.data is not None else next(it) for t in c.inputs]
        rank = len(c.outputs[0].shape)
        vals = [v.reshape((v.shape[0],) + (1,) * (rank - t.ndim) + t.shape) for v, t in
                zip(vals, [np.empty(t.shape) for t in c.inputs])]
        assert np.array_equal(got, np.where(vals[0], vals[1], vals[2])), f"case {k}"


def test_select_matches_tflm():
    rng = np.random.default_rng(2403)
    cases = [random_case(rng, max_rank=5, constants=False) for _ in range(30)]
    cases = [c for c in cases if all(len(t.shape) > 0 for t in c.inputs)]
    assert judge_against_tflm(cases, "SELECT_V2", to_tflite) == len(cases)


def test_select_v1_and_bad_conditions_are_refused():
    from edgenn.converter.tflite_import import convert_tflite_bytes

    c = Case("select", [T((4,), **BOOL), T((4,), 0.1, 0), T((4,), 0.1, 0)], [T((4,), 0.1, 0)])
    with pytest.raises(UnsupportedOpError, match="no SELECT kernel"):
        convert_tflite_bytes(to_tflite(c, "SELECT"), "v1")
    bad = Case("select", [T((4,), 0.1, 0), T((4,), 0.1, 0), T((4,), 0.1, 0)], [T((4,), 0.1, 0)])
    with pytest.raises(EdgennError, match="condition must be bool"):
        build_model(bad, "bad")
