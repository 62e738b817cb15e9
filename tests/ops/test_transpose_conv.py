"""transpose_conv: Python kernel == C kernel byte for byte on random cases, Python kernel == naive
TFLM transcription, edgenn == TFLM itself on TRANSPOSE_CONV .tflite models (SAME / VALID)."""
import numpy as np
import pytest

from common import judge_against_tflm
from conv_cases import random_transpose_case, run_transpose_naive_checks, tflite_transpose_conv, tflm_transpose_case
from harness import check_cases


def test_transpose_conv_random_cases_python_equals_c():
    rng = np.random.default_rng(2026)
    cases = [random_transpose_case(rng) for _ in range(230)]
    attrs = [c.attrs for c in cases]
    assert {a["stride"][0] for a in attrs} >= {1, 2, 3} and {a["pads"][1] for a in attrs} >= {0, 1, 2}
    assert any(c.inputs[2] is None for c in cases) and any(c.inputs[2] is not None for c in cases)
    # outputs both cropped and extended past the full transposed-convolution extent
    full = [(c.inputs[0].shape[1] - 1) * c.attrs["stride"][0] + c.inputs[1].shape[1] - c.attrs["pads"][0] for c in cases]
    assert any(c.outputs[0].shape[1] > f for c, f in zip(cases, full))
    assert any(c.outputs[0].shape[1] < f for c, f in zip(cases, full))
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 230
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_transpose_conv_python_equals_naive_tflm():
    assert run_transpose_naive_checks(n_cases=30) > 0


def test_transpose_conv_matches_tflm():
    pytest.importorskip("tflite_micro")
    rng = np.random.default_rng(99)
    cases = [tflm_transpose_case(rng) for _ in range(60)]
    assert {c.attrs["tflite_padding"] for c in cases} == {0, 1}
    assert judge_against_tflm(cases, "TRANSPOSE_CONV", tflite_transpose_conv) == 60
