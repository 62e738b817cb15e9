"""max_pool2d: Python kernel == C kernel byte for byte; == a naive TFLM transliteration; == TFLM."""
from __future__ import annotations

import numpy as np

from harness import check_cases
from pool_cases import check_against_naive, check_against_tflm, random_case


def test_max_pool2d_random_cases():
    rng = np.random.default_rng(2024)
    cases = [random_case(rng, "max_pool2d") for _ in range(220)]
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_max_pool2d_python_matches_naive_tflm():
    check_against_naive("max_pool2d", 5, 40)


def test_max_pool2d_matches_tflm():
    check_against_tflm("MAX_POOL_2D", 77, 30)
