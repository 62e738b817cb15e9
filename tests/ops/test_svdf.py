"""svdf: TFLM's integer SVDF, a streaming layer (the activation state shifts by one frame per invoke).
Python kernel == C kernel byte for byte on random cases (int16 and int8 state, ranks 1-3, random
initial states, streams and fresh starts); single-operator .tflite models judged by TFLM over a stream
of frames (TFLM keeps the variable state between invokes; its integer kernel ignores the fused
activation, as edgenn's does)."""
from __future__ import annotations

import numpy as np

from harness import check_cases, judge_tflite, random_inputs
from recurrent_cases import svdf_case, svdf_tflite
from edgenn.converter.tflite_import import convert_tflite_bytes


def random_case(rng):
    return svdf_case(rng, stateful=bool(rng.integers(0, 4)))


def test_svdf_random_cases():
    rng = np.random.default_rng(3400)
    stats = check_cases([random_case(rng) for _ in range(210)], samples=4)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_svdf_tflite_models_equal_tflm_stream():
    rng = np.random.default_rng(3401)
    cases = []
    for i in range(40):
        data = svdf_tflite(rng)
        cases.append((data, random_inputs(convert_tflite_bytes(data, f"t{i}"), 6, rng)))
    assert judge_tflite(cases, "svdf") == 40
