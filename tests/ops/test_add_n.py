"""add_n: Python kernel == C kernel byte for byte, == a naive TFLM transliteration (with the sum
starting at the rescaled input offset, as TFLM's does), == TFLM's ADD_N; edgenn's per-input
rescaling (ONNX Sum) stays within an output step of the real sum."""
from __future__ import annotations

import numpy as np
import pytest

import tflm_ref as ref
from common import rand_scale, rand_shape, rand_zp
from harness import Case, T, build_model, check_cases, judge_tflite, random_inputs
from edgenn.errors import EdgennError
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, tflm: bool | None = None) -> Case:
    n = int(rng.choice([2, 3, 3, 4, 5, 8, 15]))
    shape = rand_shape(rng, 4)
    tflm = bool(rng.integers(0, 2)) if tflm is None else tflm
    s, z = rand_scale(rng), rand_zp(rng)
    ins = []
    for _ in range(n):
        t = T(shape, s, z) if tflm else T(shape, s * float(rng.choice([1.0, rand_scale(rng, 0.1, 10)])), rand_zp(rng))
        if not tflm and rng.random() < 0.2:
            t.data = rng.integers(-128, 128, size=shape).astype(np.int8)
        ins.append(t)
    if all(t.data is not None for t in ins):
        ins[0].data = None
    ys = max(t.scale for t in ins) * float(rng.choice([0.3, 1.0, 2.0, n, 3.0 * n]))
    return Case("add_n", ins, [T(shape, ys, rand_zp(rng))], {"tflm": tflm})


def test_add_n_random_cases():
    rng = np.random.default_rng(2501)
    cases = [random_case(rng) for _ in range(210)]
    assert max(len(c.inputs) for c in cases) == 15
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_add_n_python_kernel_matches_naive_tflm():
    rng = np.random.default_rng(2502)
    for k in range(30):
        c = random_case(rng, tflm=True)
        t, ty = c.inputs[0], c.outputs[0]
        model = build_model(c, f"n{k}")
        xs = [rng.integers(-128, 128, size=(2,) + t.shape).astype(np.int8) for _ in c.inputs]
        got = Interpreter(model).invoke(*xs)[0]
        flat = [x.reshape(-1) for x in xs]
        want = [ref.add_n_value([int(f[i]) for f in flat], t.scale, t.zero_point, ty.scale, ty.zero_point)
                for i in range(flat[0].size)]
        assert got.reshape(-1).tolist() == want, f"case {k}"


def test_add_n_matches_tflm():
    from tflite_builder import TfOp, TfTensor, build
    from edgenn.converter.tflite_import import convert_tflite_bytes

    rng = np.random.default_rng(2503)
    cases = []
    for i in range(24):
        c = random_case(rng, tflm=True)
        n = len(c.inputs)
        ts = [TfTensor(f"x{k}", t.shape, "int8", t.scale, t.zero_point) for k, t in enumerate(c.inputs)]
        ts.append(TfTensor("y", c.outputs[0].shape, "int8", c.outputs[0].scale, c.outputs[0].zero_point))
        data = build(ts, [TfOp("ADD_N", list(range(n)), [n], "AddNOptions")], list(range(n)), [n])
        cases.append((data, random_inputs(convert_tflite_bytes(data, f"t{i}"), 4, rng)))
    assert judge_tflite(cases, "ADD_N") == 24


def test_add_n_per_input_rescaling_is_accurate():
    """ONNX Sum: every input with its own quantization; the result is the real sum within one output step."""
    rng = np.random.default_rng(2504)
    for k in range(20):
        c = random_case(rng, tflm=False)
        for t in c.inputs:
            t.data = None
        ty = c.outputs[0]
        model = build_model(c, f"s{k}")
        xs = [rng.integers(-128, 128, size=(3,) + t.shape).astype(np.int8) for t in c.inputs]
        got = Interpreter(model).invoke(*xs)[0].astype(np.float64)
        real = sum((x.astype(np.float64) - t.zero_point) * np.float32(t.scale) for x, t in zip(xs, c.inputs))
        want = np.clip(np.round(real / np.float32(ty.scale)) + ty.zero_point, -128, 127)
        assert np.max(np.abs(got - want)) <= 1, f"case {k}"


def test_add_n_refusals():
    with pytest.raises(EdgennError, match="quantized alike"):
        build_model(Case("add_n", [T((4,), 0.1, 0), T((4,), 0.2, 0)], [T((4,), 0.3, 0)], {"tflm": True}), "a")
    with pytest.raises(EdgennError, match="2..15"):
        build_model(Case("add_n", [T((4,), 0.1, 0)] * 16, [T((4,), 0.3, 0)]), "b")
    with pytest.raises(EdgennError, match="all must be equal"):
        build_model(Case("add_n", [T((4,), 0.1, 0), T((1,), 0.1, 0)], [T((4,), 0.3, 0)]), "c")
