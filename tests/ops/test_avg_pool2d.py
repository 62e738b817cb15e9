"""avg_pool2d: Python kernel == C kernel byte for byte; == a naive TFLM transliteration; == TFLM."""
from __future__ import annotations

import numpy as np

from harness import Case, T, build_model, check_cases
from pool_cases import check_against_naive, check_against_tflm, random_case
from edgenn.runtime_py.interpreter import Interpreter


def test_avg_pool2d_random_cases():
    rng = np.random.default_rng(4048)
    cases = [random_case(rng, "avg_pool2d") for _ in range(220)]
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_avg_pool2d_python_matches_naive_tflm():
    check_against_naive("avg_pool2d", 6, 40)


def test_avg_pool2d_rounding_and_padding():
    """Halves round away from zero; padded taps are neither summed nor counted."""
    x = np.array([1, 2, -1, -2, 3, -3, 0, 1], np.int8).reshape(1, 1, 8, 1)
    case = Case("avg_pool2d", [T((1, 1, 8, 1), 0.1, 0)], [T((1, 1, 4, 1), 0.1, 0)],
                {"filter": (1, 2), "stride": (1, 2), "pads": (0, 0, 0, 0), "act": (None, None)})
    y = Interpreter(build_model(case, "r")).invoke(x[None])[0].reshape(-1)
    assert y.tolist() == [2, -2, 0, 1]  # 1.5 -> 2, -1.5 -> -2, 0 -> 0, 0.5 -> 1
    case = Case("avg_pool2d", [T((1, 2, 2, 1), 0.1, 0)], [T((1, 2, 2, 1), 0.1, 0)],
                {"filter": (3, 3), "stride": (1, 1), "pads": (1, 1, 1, 1), "act": (None, None)})
    x = np.array([10, 20, 30, 41], np.int8).reshape(1, 1, 2, 2, 1)
    y = Interpreter(build_model(case, "p")).invoke(x)[0].reshape(-1)
    assert y.tolist() == [25, 25, 25, 25]  # (10+20+30+41)/4 = 25.25, every window sees all four
    check_cases([case], samples=3)


def test_avg_pool2d_matches_tflm():
    check_against_tflm("AVERAGE_POOL_2D", 78, 30)
