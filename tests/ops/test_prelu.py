"""prelu: Python kernel == C kernel byte for byte, == a naive TFLM transliteration, == TFLM itself."""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from binary_cases import fixed_cases, naive_run, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def test_prelu_random_cases():
    rng = np.random.default_rng(2301)
    cases = [c for c in fixed_cases(rng, "prelu") if c.inputs[0].data is None]
    cases += [random_case(rng, "prelu") for _ in range(200 - len(cases))]
    assert any(c.inputs[1].data is None for c in cases)  # alpha as an activation too
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_prelu_python_kernel_matches_naive_tflm_formulas():
    rng = np.random.default_rng(2302)
    for k in range(40):
        c = random_case(rng, "prelu")
        tx, ta, ty = c.inputs[0], c.inputs[1], c.outputs[0]
        model = build_model(c, f"n{k}")
        xs = [rng.integers(-128, 128, size=(2,) + model.tensors[d.tensor].shape).astype(np.int8) for d in model.inputs]
        got = Interpreter(model).invoke(*xs)[0]
        want = naive_run(c, xs, lambda x, a: ref.prelu_value(x, a, tx.scale, tx.zero_point, ta.scale, ta.zero_point,
                                                              ty.scale, ty.zero_point))
        assert np.array_equal(got, want), f"case {k}"


def test_prelu_matches_tflm():
    rng = np.random.default_rng(2303)
    cases = [c for c in tflm_binary_cases(rng, "prelu", 40, max_rank=4) if c.inputs[0].data is None]
    # TFLM broadcasts alpha into the input's shape only (the output has the input's shape).
    cases = [c for c in cases if tuple(np.broadcast_shapes(c.inputs[0].shape, c.inputs[1].shape)) == c.inputs[0].shape]
    assert len(cases) >= 15
    assert judge_against_tflm(cases, "PRELU", to_tflite) == len(cases)
