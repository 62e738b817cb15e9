"""log_softmax: Python kernel == C kernel byte for byte; == TFLM's LOG_SOFTMAX; close to the float
log-softmax."""
from __future__ import annotations

import numpy as np
import pytest

from common import judge_unary, unary_tflite
from harness import Case, T, build_model, check_cases
from edgenn.errors import EdgennError
from edgenn.runtime_py.interpreter import Interpreter

OUT = (16.0 / 256.0, 127)


def random_shape(rng) -> tuple[int, ...]:
    depth = int(rng.choice([1, 2, 3, 10, int(rng.integers(1, 40)), int(rng.integers(40, 300)), 1000]))
    rows = int(rng.choice([1, 2, 5])) if depth > 100 else int(rng.integers(1, 12))
    return (depth,) if rng.random() < 0.2 else ((rows, depth) if rng.random() < 0.5 else (1, rows, depth))


def random_scale(rng) -> float:
    return float(rng.uniform(0.01, 0.5)) if rng.random() < 0.6 else float(10 ** rng.uniform(-7.5, 1.3))


def random_case(rng) -> Case:
    shape = random_shape(rng)
    return Case("log_softmax", [T(shape, random_scale(rng), int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))])))],
                [T(shape, *OUT)])


def test_log_softmax_random_cases():
    rng = np.random.default_rng(2701)
    stats = check_cases([random_case(rng) for _ in range(210)], samples=4)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_log_softmax_matches_tflm():
    rng = np.random.default_rng(2702)
    datas = []
    for i in range(36):
        c = random_case(rng)
        shape = c.inputs[0].shape if i % 3 else (1, int(rng.integers(2, 300)))
        datas.append(unary_tflite("LOG_SOFTMAX", shape, (c.inputs[0].scale, c.inputs[0].zero_point), OUT))
    assert judge_unary(datas, seed=2703) == 36


def test_log_softmax_is_close_to_float():
    rng = np.random.default_rng(2704)
    for k in range(20):
        depth = int(rng.integers(2, 60))
        scale, zp = float(rng.uniform(0.02, 0.3)), int(rng.integers(-20, 20))
        m = build_model(Case("log_softmax", [T((4, depth), scale, zp)], [T((4, depth), *OUT)]), f"f{k}")
        x = rng.integers(-128, 128, size=(3, 4, depth)).astype(np.int8)
        y = (Interpreter(m).invoke(x)[0].astype(np.float64) - 127) * OUT[0]
        r = (x.astype(np.float64) - zp) * np.float32(scale)
        want = r - r.max(-1, keepdims=True) - np.log(np.exp(r - r.max(-1, keepdims=True)).sum(-1, keepdims=True))
        inside = want > -255 * OUT[0]
        assert np.max(np.abs(y - want)[inside]) <= 1.5 * OUT[0], k


def test_log_softmax_refuses_other_output_quantization():
    with pytest.raises(EdgennError, match="16/256"):
        build_model(Case("log_softmax", [T((4,), 0.1, 0)], [T((4,), 1 / 256, -128)]), "bad")
