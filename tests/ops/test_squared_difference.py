"""squared_difference: Python kernel == C kernel byte for byte, == a naive TFLM transliteration, == TFLM."""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from binary_cases import fixed_cases, naive_run, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def test_squared_difference_random_cases():
    rng = np.random.default_rng(2001)
    cases = fixed_cases(rng, "squared_difference") + [random_case(rng, "squared_difference") for _ in range(165)]
    models = [build_model(c, f"m{i}") for i, c in enumerate(cases[:80])]
    assert any(m.ops[0].options["output_shift"] > 0 for m in models)  # left-shifting output multipliers
    assert any(m.ops[0].options["output_shift"] < 0 for m in models)
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_squared_difference_python_kernel_matches_naive_tflm_formulas():
    rng = np.random.default_rng(2002)
    for k in range(40):
        c = random_case(rng, "squared_difference")
        ta, tb, ty = c.inputs[0], c.inputs[1], c.outputs[0]
        model = build_model(c, f"n{k}")
        xs = [rng.integers(-128, 128, size=(2,) + model.tensors[d.tensor].shape).astype(np.int8) for d in model.inputs]
        got = Interpreter(model).invoke(*xs)[0]
        want = naive_run(c, xs, lambda x1, x2: ref.squared_difference_value(
            x1, x2, ta.scale, ta.zero_point, tb.scale, tb.zero_point, ty.scale, ty.zero_point))
        assert np.array_equal(got, want), f"case {k}: {ta.shape}, {tb.shape}"


def test_squared_difference_matches_tflm():
    rng = np.random.default_rng(2003)
    cases = tflm_binary_cases(rng, "squared_difference", 30, max_rank=4)  # TFLM broadcasts up to 4-D
    assert judge_against_tflm(cases, "SQUARED_DIFFERENCE", to_tflite) == 30
