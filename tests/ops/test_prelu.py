"""prelu: Python kernel == C kernel byte for byte, == a naive TFLM transliteration, == TFLM itself."""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from binary_cases import check_against_naive, fixed_cases, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import check_cases


def test_prelu_random_cases():
    rng = np.random.default_rng(2301)
    cases = [c for c in fixed_cases(rng, "prelu") if c.inputs[0].data is None]
    cases += [random_case(rng, "prelu") for _ in range(200 - len(cases))]
    assert any(c.inputs[1].data is None for c in cases)  # alpha as an activation too
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_prelu_python_kernel_matches_naive_tflm_formulas():
    def element(c):
        (tx, ta), ty = c.inputs, c.outputs[0]
        return lambda x, a: ref.prelu_value(x, a, tx.scale, tx.zero_point, ta.scale, ta.zero_point, ty.scale,
                                            ty.zero_point)
    check_against_naive(np.random.default_rng(2302), "prelu", 40, element)


def test_prelu_matches_tflm():
    rng = np.random.default_rng(2303)
    cases = [c for c in tflm_binary_cases(rng, "prelu", 40, max_rank=4) if c.inputs[0].data is None]
    # TFLM broadcasts alpha into the input's shape only (the output has the input's shape).
    cases = [c for c in cases if tuple(np.broadcast_shapes(c.inputs[0].shape, c.inputs[1].shape)) == c.inputs[0].shape]
    assert len(cases) >= 15
    assert judge_against_tflm(cases, "PRELU", to_tflite) == len(cases)
