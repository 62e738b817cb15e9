"""logistic: Python kernel == C kernel byte for byte; == a naive TFLM transliteration; == TFLM."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

import tflm_ref as ref
from harness import judge_tflite, Case, T, build_model, check_cases, random_inputs, run_c_host
from edgenn.runtime_py.interpreter import Interpreter

OUT = (1.0 / 256.0, -128)


def random_scale(rng: np.random.Generator) -> float:
    u = rng.random()
    if u < 0.55:
        return float(rng.uniform(0.01, 0.3))  # typical pre-activations
    if u < 0.7:
        return float(rng.uniform(2.0, 12.0))  # radius 0..3: the saturation boundaries matter
    return float(10 ** rng.uniform(-8, 1.5))  # nearly constant 0.5 .. hard step (radius 0 above scale 8)


def random_case(rng: np.random.Generator) -> Case:
    rank = int(rng.integers(1, 5))
    shape = tuple(int(v) for v in rng.integers(1, 9 if rank > 2 else 40, size=rank))
    zp = int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128)), int(rng.integers(-128, 128))]))
    return Case("logistic", [T(shape, random_scale(rng), zp)], [T(shape, *OUT)])


def test_logistic_random_cases():
    rng = np.random.default_rng(17)
    cases = [random_case(rng) for _ in range(220)]
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_logistic_python_matches_naive_tflm():
    """All 256 input values of 40 random quantizations."""
    rng = np.random.default_rng(18)
    for i in range(40):
        scale = random_scale(rng)
        zp = int(rng.integers(-128, 128))
        case = Case("logistic", [T((256,), scale, zp)], [T((256,), *OUT)])
        model = build_model(case, f"n{i}")
        o = model.ops[0].options
        params = ref.logistic_params(float(np.float32(scale)), zp)
        assert (o["input_zero_point"], o["input_range_radius"], o["input_multiplier"], o["input_left_shift"]) == params
        x = np.arange(-128, 128, dtype=np.int16).astype(np.int8)[None]
        got = Interpreter(model).invoke(x)[0][0]
        want = [ref.logistic_value(v, *params) for v in range(-128, 128)]
        assert got.tolist() == want, f"case {i} scale {scale} zp {zp}: python != naive TFLM"


def test_logistic_hard_step():
    """Input scale >= 8: radius 0, so the input zero point itself maps to -128 (TFLM checks <= -radius first)."""
    case = Case("logistic", [T((5,), 10.0, 3)], [T((5,), *OUT)])
    model = build_model(case, "h")
    x = np.array([[2, 3, 4, -128, 127]], np.int8)
    y = Interpreter(model).invoke(x)[0]
    assert y[0].tolist() == [-128, -128, 127, -128, 127]
    work = Path(tempfile.mkdtemp(prefix="edgenn-step-"))
    try:
        assert np.array_equal(run_c_host([model], [[x]], work)[0][0], y)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_logistic_matches_tflm():
    from tflite_builder import TfOp, TfTensor, build
    from edgenn.converter.tflite_import import convert_tflite_bytes

    rng = np.random.default_rng(43)
    cases = []
    fixed = [10.0, 8.0, 7.99, 1e-8, 2.0 ** -20]  # radius 0, the edge of radius 1, nearly constant
    for i in range(30):
        scale = fixed[i] if i < len(fixed) else random_scale(rng)
        zp = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
        shape = (1, 256)
        data = build([TfTensor("x", shape, "int8", scale, zp), TfTensor("y", shape, "int8", *OUT)],
                     [TfOp("LOGISTIC", [0], [1])], [0], [1])
        x = random_inputs(convert_tflite_bytes(data, f"t{i}"), 3, rng)
        x[0][2] = np.arange(-128, 128, dtype=np.int16).astype(np.int8)  # every input value
        cases.append((data, x))
    assert judge_tflite(cases, "LOGISTIC") == 30
