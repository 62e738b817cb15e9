"""sub: Python kernel == C kernel byte for byte, == a naive TFLM transliteration, == TFLM itself."""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from binary_cases import fixed_cases, naive_run, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def test_sub_random_cases():
    rng = np.random.default_rng(1901)
    cases = fixed_cases(rng, "sub") + [random_case(rng, "sub") for _ in range(165)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_sub_python_kernel_matches_naive_tflm_formulas():
    rng = np.random.default_rng(1902)
    for k in range(40):
        c = random_case(rng, "sub")
        ta, tb, ty = c.inputs[0], c.inputs[1], c.outputs[0]
        model = build_model(c, f"n{k}")
        o = model.ops[0].options
        params = ref.sub_params(ta.scale, tb.scale, ty.scale)
        assert (o["input1_multiplier"], o["input1_shift"], o["input2_multiplier"], o["input2_shift"],
                o["output_multiplier"], o["output_shift"]) == params
        lo, hi = ref.activation_range(c.attrs["act"], ty.scale, ty.zero_point)
        xs = [rng.integers(-128, 128, size=(2,) + model.tensors[d.tensor].shape).astype(np.int8) for d in model.inputs]
        got = Interpreter(model).invoke(*xs)[0]
        want = naive_run(c, xs, lambda x1, x2: ref.sub_value(x1, x2, ta.zero_point, tb.zero_point, ty.zero_point,
                                                              params, lo, hi))
        assert np.array_equal(got, want), f"case {k}: {ta.shape} - {tb.shape}"


def test_sub_matches_tflm():
    rng = np.random.default_rng(1903)
    assert judge_against_tflm(tflm_binary_cases(rng, "sub", 30, max_rank=5), "SUB", to_tflite) == 30
