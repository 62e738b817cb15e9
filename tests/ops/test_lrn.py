"""lrn: Python kernel == C kernel byte for byte on random cases, == a naive formula.

The tests' part of the operator contract: at least 200 random cases through harness.check_cases
(runtime_py == compiled host C, byte for byte; zero points at both ends; saturation reached), a
check of the numpy kernel against an independent naive transliteration (tests/ops/tflm_ref.py), and,
where TFLite has the operator, single-operator .tflite models judged by TFLM (common.judge_against_tflm).
"""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from common import rand_scale, rand_shape, rand_zp
from harness import Case, T, build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng) -> Case:
    shape = rand_shape(rng)
    s_in = rand_scale(rng, 1e-4, 1.0)
    s_out = s_in * float(rng.choice([1.0, rand_scale(rng, 0.5, 2.0), rand_scale(rng, 1e-3, 1e3), 0.01, 50.0]))
    return Case("lrn", [T(shape, s_in, rand_zp(rng))], [T(shape, s_out, rand_zp(rng))])


def test_lrn_random_cases():
    rng = np.random.default_rng(2024)
    stats = check_cases([random_case(rng) for _ in range(210)], samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_lrn_python_kernel_matches_naive_formula():
    rng = np.random.default_rng(9)
    for k in range(30):
        c = random_case(rng)
        ti, to = c.inputs[0], c.outputs[0]
        x = np.resize(np.arange(-128, 128, dtype=np.int16).astype(np.int8), (2,) + ti.shape)
        got = Interpreter(build_model(c, f"n{k}")).invoke(x)[0]
        m, sh = ref.quantize_multiplier(float(np.float32(ti.scale)) / float(np.float32(to.scale)))
        want = np.vectorize(lambda v: max(min(ref.mbqm(int(v) - ti.zero_point, m, sh) + to.zero_point, 127), -128))(x)
        assert np.array_equal(got, want.astype(np.int8)), f"case {k}"
