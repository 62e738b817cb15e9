"""resize_nearest: Python kernel == C kernel byte for byte on random cases (TFLite flags and the
ONNX coordinate and rounding modes), Python kernel == naive TFLM transcription, edgenn == TFLM
itself on RESIZE_NEAREST_NEIGHBOR .tflite models."""
import numpy as np
import pytest

from common import judge_against_tflm
from harness import check_cases
from resize_cases import random_case, run_naive_checks, tflite_cases, tflite_resize


def test_resize_nearest_random_cases():
    rng = np.random.default_rng(2025)
    cases = [random_case(rng, "resize_nearest") for _ in range(220)]
    assert {c.attrs.get("tflite") for c in cases} >= {(False, False), (True, False), (False, True), (True, True)}
    assert {c.attrs.get("nearest_mode") for c in cases} >= {"round_prefer_floor", "round_prefer_ceil", "floor",
                                                            "ceil", "simple"}
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_resize_nearest_python_equals_naive_tflm():
    assert run_naive_checks("resize_nearest", n_cases=40) > 0


def test_resize_nearest_matches_tflm():
    pytest.importorskip("tflite_micro")
    rng = np.random.default_rng(78)
    assert judge_against_tflm(tflite_cases(rng, "resize_nearest", 60), "RESIZE_NEAREST_NEIGHBOR", tflite_resize) == 60
