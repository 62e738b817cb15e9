"""depthwise_conv2d: Python kernel == C kernel byte for byte; Python kernel == naive TFLM
transcription; edgenn == TFLM itself on built DEPTHWISE_CONV_2D .tflite models."""
import numpy as np
import pytest

from conv_cases import any_left_shift, random_case, run_naive_checks, tflm_cases_check
from harness import check_cases


def test_depthwise_conv2d_random_cases_python_equals_c():
    rng = np.random.default_rng(4048)
    cases = [random_case(rng, depthwise=True) for _ in range(240)]
    attrs = [c.attrs for c in cases]
    assert {a["stride"][1] for a in attrs} >= {1, 2, 3} and {a["dilation"][0] for a in attrs} >= {1, 2}
    assert {a["depth_multiplier"] for a in attrs} >= {1, 2, 3}
    assert any(c.inputs[2] is None for c in cases) and any(c.inputs[2] is not None for c in cases)
    assert {c.inputs[0].zero_point for c in cases} >= {-128, 127}
    assert {c.outputs[0].zero_point for c in cases} >= {-128, 127}
    assert any(a["pads"][0] != a["pads"][2] for a in attrs) and any(a["pads"][1] == a["pads"][3] > 0 for a in attrs)
    assert {c.inputs[1].shape[2] for c in cases} >= {1, 2, 3, 4, 5}
    assert any_left_shift(cases), "no case with a real multiplier > 1 (left shift)"
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 240
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_depthwise_conv2d_python_equals_naive_tflm():
    assert run_naive_checks(depthwise=True, n_cases=30, seed=8) > 0


def test_depthwise_conv2d_matches_tflm():
    pytest.importorskip("tflite_micro")
    n = tflm_cases_check(depthwise=True, n_cases=30, seed=77)
    assert n > 0
