"""mul: Python kernel == C kernel byte for byte, == a naive TFLM model, == TFLM itself."""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from binary_cases import fixed_cases, naive_run, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def naive_mul(x1: int, x2: int, s1: float, z1: int, s2: float, z2: int, so: float, zo: int, act) -> int:
    """reference_integer_ops::MulElementwise after CalculateOpDataMul, one element."""
    s1, s2, so = float(np.float32(s1)), float(np.float32(s2)), float(np.float32(so))
    m, sh = ref.quantize_multiplier(s1 * s2 / so)
    y = zo + ref.mbqm((x1 - z1) * (x2 - z2), m, sh)
    lo, hi = ref.activation_range(act, so, zo)
    return min(hi, max(lo, y))


def test_mul_random_cases():
    rng = np.random.default_rng(3031)
    cases = fixed_cases(rng, "mul") + [random_case(rng, "mul") for _ in range(165)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_mul_python_kernel_matches_naive_tflm_formulas():
    rng = np.random.default_rng(8)
    for k in range(40):
        c = random_case(rng, "mul")
        ta, tb, ty = c.inputs[0], c.inputs[1], c.outputs[0]
        model = build_model(c, f"n{k}")
        xs = [rng.integers(-128, 128, size=(2,) + model.tensors[d.tensor].shape).astype(np.int8) for d in model.inputs]
        got = Interpreter(model).invoke(*xs)[0]
        want = naive_run(c, xs, lambda x1, x2: naive_mul(x1, x2, ta.scale, ta.zero_point, tb.scale, tb.zero_point,
                                                          ty.scale, ty.zero_point, c.attrs["act"]))
        assert np.array_equal(got, want), f"case {k}: {c.inputs[0].shape} * {c.inputs[1].shape}"


def test_mul_matches_tflm():
    rng = np.random.default_rng(77)
    assert judge_against_tflm(tflm_binary_cases(rng, "mul", 30), "MUL", to_tflite) == 30
