"""maximum_minimum: Python kernel == C kernel byte for byte, == numpy's maximum / minimum of the raw
values (TFLM's semantics), == TFLM's MAXIMUM and MINIMUM."""
from __future__ import annotations

import numpy as np
import pytest

from binary_cases import check_against_naive, fixed_cases, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import check_cases


def test_maximum_minimum_random_cases():
    rng = np.random.default_rng(2101)
    cases = fixed_cases(rng, "maximum_minimum") + [random_case(rng, "maximum_minimum") for _ in range(165)]
    assert {c.attrs["is_maximum"] for c in cases} == {True, False}
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_maximum_minimum_python_kernel_is_the_raw_extremum():
    check_against_naive(np.random.default_rng(2102), "maximum_minimum", 30,
                        lambda c: max if c.attrs["is_maximum"] else min)


@pytest.mark.parametrize("code", ["MAXIMUM", "MINIMUM"])
def test_maximum_minimum_matches_tflm(code):
    rng = np.random.default_rng(2103 if code == "MAXIMUM" else 2104)
    cases = tflm_binary_cases(rng, "maximum_minimum", 24, max_rank=5)
    for c in cases:
        c.attrs["is_maximum"] = code == "MAXIMUM"
    assert judge_against_tflm(cases, code, to_tflite) == 24


def test_maximum_of_differently_quantized_tflite_inputs_is_tflm_raw():
    """TFLM compares raw int8 values whatever the quantization; the importer keeps that meaning."""
    from binary_cases import T
    from harness import Case

    c = Case("maximum_minimum", [T((2, 8), 0.1, 0), T((2, 8), 0.5, 10)], [T((2, 8), 0.2, -5)], {"is_maximum": True})
    assert judge_against_tflm([c], "MAXIMUM", to_tflite) == 1
