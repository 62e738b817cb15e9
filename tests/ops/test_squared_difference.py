"""squared_difference: Python kernel == C kernel byte for byte, == a naive TFLM transliteration, == TFLM."""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from binary_cases import check_against_naive, fixed_cases, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import build_model, check_cases


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
    def element(c):
        (ta, tb), ty = c.inputs, c.outputs[0]
        return lambda x1, x2: ref.squared_difference_value(x1, x2, ta.scale, ta.zero_point, tb.scale, tb.zero_point,
                                                           ty.scale, ty.zero_point)
    check_against_naive(np.random.default_rng(2002), "squared_difference", 40, element)


def test_squared_difference_matches_tflm():
    rng = np.random.default_rng(2003)
    cases = tflm_binary_cases(rng, "squared_difference", 30, max_rank=4)  # TFLM broadcasts up to 4-D
    assert judge_against_tflm(cases, "SQUARED_DIFFERENCE", to_tflite) == 30
