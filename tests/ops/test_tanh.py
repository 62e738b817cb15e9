"""tanh: Python kernel == C kernel byte for byte; == a naive TFLM transliteration; == TFLM."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

import tflm_ref as ref
from harness import Case, T, build_model, check_cases, run_c_host
from common import judge_unary, unary_tflite
from edgenn.errors import EdgennError
from edgenn.runtime_py.interpreter import Interpreter

OUT = (1.0 / 128.0, 0)


def random_scale(rng: np.random.Generator) -> float:
    u = rng.random()
    if u < 0.55:
        return float(rng.uniform(0.005, 0.3))  # typical pre-activations (saturating from |x| ~ 4)
    if u < 0.7:
        return float(rng.uniform(2.0, 12.0))  # radius 0..3: the saturation boundaries matter
    return float(10 ** rng.uniform(-8, 1.5))  # nearly constant 0 .. hard step (radius 0 above scale 8)


def random_case(rng: np.random.Generator) -> Case:
    rank = int(rng.integers(1, 5))
    # Sizes from 1 to 4096 elements: the C kernel switches to a table above 256.
    shape = tuple(int(v) for v in rng.integers(1, 9 if rank > 2 else 40, size=rank))
    zp = int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128)), int(rng.integers(-128, 128))]))
    return Case("tanh", [T(shape, random_scale(rng), zp)], [T(shape, *OUT)])


def test_tanh_random_cases():
    rng = np.random.default_rng(31)
    cases = [random_case(rng) for _ in range(220)]
    sizes = [int(np.prod(c.inputs[0].shape)) for c in cases]
    assert min(sizes) <= 256 < max(sizes)  # both C paths
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_tanh_python_matches_naive_tflm():
    """All 256 input values of 60 random quantizations (zero points at both ends included)."""
    rng = np.random.default_rng(32)
    for i in range(60):
        scale = random_scale(rng)
        zp = [-128, 127, 0][i] if i < 3 else int(rng.integers(-128, 128))
        case = Case("tanh", [T((256,), scale, zp)], [T((256,), *OUT)])
        model = build_model(case, f"n{i}")
        o = model.ops[0].options
        params = ref.tanh_params(float(np.float32(scale)), zp)
        assert (o["input_zero_point"], o["input_range_radius"], o["input_multiplier"], o["input_left_shift"]) == params
        x = np.arange(-128, 128, dtype=np.int16).astype(np.int8)[None]
        got = Interpreter(model).invoke(x)[0][0]
        want = [ref.tanh_value(v, *params) for v in range(-128, 128)]
        assert got.tolist() == want, f"case {i} scale {scale} zp {zp}: python != naive TFLM"


def test_tanh_is_odd_and_saturates():
    case = Case("tanh", [T((256,), 0.05, 0)], [T((256,), *OUT)])
    y = Interpreter(build_model(case, "odd")).invoke(np.arange(-128, 128, dtype=np.int16).astype(np.int8)[None])[0][0]
    y = y.astype(int)
    assert y[128] == 0 and y[0] == -128 and y[255] == 127
    # tanh(-x) = -tanh(x) bit for bit, except that -1 is representable (-128) and +1 is not (127).
    assert all(y[128 + k] == -y[128 - k] or (y[128 - k], y[128 + k]) == (-128, 127) for k in range(1, 128))
    assert np.all(np.diff(y) >= 0)


def test_tanh_hard_step():
    """Input scale >= 8: radius 0, so the input zero point itself maps to -128 (TFLM checks <= -radius first)."""
    case = Case("tanh", [T((5,), 10.0, 3)], [T((5,), *OUT)])
    model = build_model(case, "h")
    x = np.array([[2, 3, 4, -128, 127]], np.int8)
    y = Interpreter(model).invoke(x)[0]
    assert y[0].tolist() == [-128, -128, 127, -128, 127]
    work = Path(tempfile.mkdtemp(prefix="edgenn-step-"))
    try:
        assert np.array_equal(run_c_host([model], [[x]], work)[0][0], y)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_tanh_requires_tflite_output_quantization():
    with pytest.raises(EdgennError, match="scale 1/128 and zero point 0"):
        build_model(Case("tanh", [T((4,), 0.05, 0)], [T((4,), 1.0 / 256.0, -128)]), "bad")


def test_tanh_matches_tflm():
    rng = np.random.default_rng(33)
    datas = []
    fixed = [10.0, 8.0, 7.99, 1e-8, 2.0 ** -20, 0.5]  # radius 0, the edge of radius 1, nearly constant
    for i in range(32):
        scale = fixed[i] if i < len(fixed) else random_scale(rng)
        zp = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
        shape = (1, 256) if i % 2 else tuple(int(v) for v in rng.integers(1, 12, size=int(rng.integers(1, 5))))
        datas.append(unary_tflite("TANH", shape, (scale, zp), OUT))
    assert judge_unary(datas, seed=34) == 32
