"""resize_bilinear: Python kernel == C kernel byte for byte on random cases (TFLite flags and the
ONNX coordinate modes), Python kernel == naive TFLM transcription, edgenn == TFLM itself on
RESIZE_BILINEAR .tflite models."""
import numpy as np
import pytest

from common import judge_against_tflm
from harness import check_cases
from resize_cases import random_case, run_naive_checks, tflite_cases, tflite_resize


def test_resize_bilinear_random_cases():
    rng = np.random.default_rng(2024)
    cases = [random_case(rng, "resize_bilinear") for _ in range(220)]
    assert {c.attrs.get("tflite") for c in cases} >= {(False, False), (True, False), (False, True)}
    assert {c.attrs.get("coord") for c in cases} >= {"half_pixel", "align_corners", "asymmetric",
                                                     "pytorch_half_pixel", "tf_half_pixel_for_nn"}
    assert any(c.outputs[0].shape[1] < c.inputs[0].shape[1] for c in cases)  # downscaling too
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_resize_bilinear_python_equals_naive_tflm():
    assert run_naive_checks("resize_bilinear", n_cases=40) > 0


def test_resize_bilinear_matches_tflm():
    pytest.importorskip("tflite_micro")
    rng = np.random.default_rng(77)
    assert judge_against_tflm(tflite_cases(rng, "resize_bilinear", 60), "RESIZE_BILINEAR", tflite_resize) == 60
