"""gru: edgenn's integer GRU (TFLM's integer LSTM primitives). Python kernel == C kernel byte for
byte on random cases (time- and batch-major, reversed, random initial states, stateless and stateful
streams); its accuracy against float semantics is checked on ONNX models (tests/test_onnx_recurrent.py)."""
from __future__ import annotations

import numpy as np

from harness import check_cases
from recurrent_cases import gru_case


def random_case(rng):
    return gru_case(rng, stateful=bool(rng.integers(0, 2)))


def test_gru_random_cases():
    rng = np.random.default_rng(3200)
    stats = check_cases([random_case(rng) for _ in range(210)], samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0
