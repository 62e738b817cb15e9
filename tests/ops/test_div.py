"""div: Python kernel == C kernel byte for byte, == a naive TFLM transliteration (divisors at their
zero point included), == TFLM's DIV (its x86-64 arithmetic of undefined shifts included); the ONNX
variant rounds those exactly."""
from __future__ import annotations

import numpy as np
import pytest

import tflm_ref as ref
from binary_cases import fixed_cases, naive_run, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import Case, T, build_model, check_cases
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import activation_range


def test_div_random_cases():
    rng = np.random.default_rng(4101)
    cases = fixed_cases(rng, "div") + [random_case(rng, "div") for _ in range(165)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_div_python_kernel_matches_naive_tflm_formulas():
    from edgenn.runtime_py.interpreter import Interpreter

    rng = np.random.default_rng(4102)
    for k in range(40):
        c = random_case(rng, "div")
        c.attrs["tflm"] = True  # the transliteration is TFLM's (host) arithmetic
        model = build_model(c, f"n{k}")
        xs = [rng.integers(-128, 128, size=(2,) + model.tensors[d.tensor].shape).astype(np.int8) for d in model.inputs]
        (ta, tb), ty = c.inputs, c.outputs[0]
        lo, hi = activation_range(*c.attrs["act"], float(np.float32(ty.scale)), ty.zero_point)
        want = naive_run(c, xs, lambda x1, x2: ref.div_value(x1, x2, ta.scale, ta.zero_point, tb.scale, tb.zero_point,
                                                               ty.scale, ty.zero_point, lo, hi))
        assert np.array_equal(Interpreter(model).invoke(*xs)[0], want), f"case {k}: {c.attrs}"


def test_div_matches_tflm():
    rng = np.random.default_rng(4103)
    cases = tflm_binary_cases(rng, "div", 30, max_rank=5)
    assert judge_against_tflm(cases, "DIV", to_tflite) == 30


def test_onnx_variant_divides_zero_and_small_dividends_exactly():
    """Dividends 0 and +-1 reach gemmlowp's undefined shifts; without TFLM's host arithmetic they give
    the exact rounding, within half a step of the real quotient like every other pair."""
    from edgenn.runtime_py.interpreter import Interpreter

    s1, z1, s2, z2, so, zo = 0.02, 0, 0.5, 10, 0.1, -20
    c = Case("div", [T((65536,), s1, z1), T((65536,), s2, z2)], [T((65536,), so, zo)], {"act": (None, None)})
    x1 = np.repeat(np.arange(-128, 128), 256).astype(np.int8)
    x2 = np.tile(np.arange(-128, 128), 256).astype(np.int8)
    got = Interpreter(build_model(c, "o")).invoke(x1[None], x2[None])[0][0].astype(np.float64)
    keep = x2 != z2
    real = (x1[keep].astype(np.float64) - z1) * np.float32(s1) / ((x2[keep].astype(np.float64) - z2) * np.float32(s2))
    want = np.clip(real / np.float32(so) + zo, -128, 127)
    assert np.max(np.abs(got[keep] - want)) <= 0.5 + 1e-6
    assert np.all(got[(x1 == z1) & keep] == zo)  # 0 / y == 0
    c.attrs["tflm"] = True
    tflm = Interpreter(build_model(c, "t")).invoke(x1[None], x2[None])[0][0]
    assert np.any(tflm[(x1 == z1) & keep] == zo + 1)  # TFLM's build: +1 LSB


def test_div_refuses_an_output_scale_too_small():
    c = Case("div", [T((4,), 1.0, 0), T((4,), 1e-4, 0)], [T((4,), 1e-4, 0)], {"act": (None, None)})
    with pytest.raises(EdgennError, match="too small"):
        build_model(c, "bad")
