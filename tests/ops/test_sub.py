"""sub: Python kernel == C kernel byte for byte, == a naive TFLM transliteration, == TFLM itself."""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from binary_cases import check_against_naive, fixed_cases, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import build_model, check_cases


def test_sub_random_cases():
    rng = np.random.default_rng(1901)
    cases = fixed_cases(rng, "sub") + [random_case(rng, "sub") for _ in range(165)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_sub_python_kernel_matches_naive_tflm_formulas():
    def element(c):
        (ta, tb), ty = c.inputs, c.outputs[0]
        o = build_model(c, "p").ops[0].options
        params = ref.sub_params(ta.scale, tb.scale, ty.scale)
        assert (o["input1_multiplier"], o["input1_shift"], o["input2_multiplier"], o["input2_shift"],
                o["output_multiplier"], o["output_shift"]) == params
        lo, hi = ref.activation_range(c.attrs["act"], ty.scale, ty.zero_point)
        return lambda x1, x2: ref.sub_value(x1, x2, ta.zero_point, tb.zero_point, ty.zero_point, params, lo, hi)
    check_against_naive(np.random.default_rng(1902), "sub", 40, element)


def test_sub_matches_tflm():
    rng = np.random.default_rng(1903)
    assert judge_against_tflm(tflm_binary_cases(rng, "sub", 30, max_rank=5), "SUB", to_tflite) == 30
