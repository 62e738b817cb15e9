"""add: Python kernel == C kernel byte for byte, == a naive TFLM model, == TFLM itself."""
from __future__ import annotations

import numpy as np
import pytest

import tflm_ref as ref
from binary_cases import fixed_cases, naive_run, random_case, tflm_binary_cases, to_tflite
from common import judge_against_tflm
from harness import Case, T, build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


# ----------------------------------------------------------------- TFLM's formulas with Python ints
def naive_add(x1: int, x2: int, s1: float, z1: int, s2: float, z2: int, so: float, zo: int, act) -> int:
    """reference_integer_ops::AddFunc after CalculateOpDataAdd, one element."""
    s1, s2, so = float(np.float32(s1)), float(np.float32(s2)), float(np.float32(so))
    twice_max = 2 * max(s1, s2)
    m1, sh1 = ref.quantize_multiplier(s1 / twice_max)
    m2, sh2 = ref.quantize_multiplier(s2 / twice_max)
    mo, sho = ref.quantize_multiplier(twice_max / ((1 << 20) * so))
    a = ref.rdbp(ref.srdhm((x1 - z1) * (1 << 20), m1), -sh1)
    b = ref.rdbp(ref.srdhm((x2 - z2) * (1 << 20), m2), -sh2)
    y = ref.rdbp(ref.srdhm(a + b, mo), -sho) + zo
    lo, hi = ref.activation_range(act, so, zo)
    return min(hi, max(lo, y))


# ----------------------------------------------------------------- random cases
def test_add_random_cases():
    rng = np.random.default_rng(2024)
    cases = fixed_cases(rng, "add") + [random_case(rng) for _ in range(165)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_add_python_kernel_matches_naive_tflm_formulas():
    rng = np.random.default_rng(7)
    for k in range(40):
        c = random_case(rng)
        ta, tb, ty = c.inputs[0], c.inputs[1], c.outputs[0]
        model = build_model(c, f"n{k}")
        xs = [rng.integers(-128, 128, size=(2,) + model.tensors[d.tensor].shape).astype(np.int8) for d in model.inputs]
        got = Interpreter(model).invoke(*xs)[0]
        want = naive_run(c, xs, lambda x1, x2: naive_add(x1, x2, ta.scale, ta.zero_point, tb.scale, tb.zero_point,
                                                          ty.scale, ty.zero_point, c.attrs["act"]))
        assert np.array_equal(got, want), f"case {k}: {c.inputs[0].shape} + {c.inputs[1].shape}"


def test_add_rejects_bad_shapes():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="broadcast"):
        build_model(Case("add", [T((2, 3), 0.1, 0), T((4, 3), 0.1, 0)], [T((4, 3), 0.1, 0)]), "bad")
    with pytest.raises(EdgennError, match="output shape"):
        build_model(Case("add", [T((2, 3), 0.1, 0), T((1, 3), 0.1, 0)], [T((3, 3), 0.1, 0)]), "bad")


def test_add_matches_tflm():
    rng = np.random.default_rng(99)
    assert judge_against_tflm(tflm_binary_cases(rng, "add", 30), "ADD", to_tflite) == 30


def test_add_and_mul_activation_bounds_beyond_int8():
    """An ONNX-style clamp whose lower bound lies above the output range gives 127 everywhere."""
    for op in ("add", "mul"):
        c = Case(op, [T((3, 4), 0.02, 0), T((4,), 0.02, 5, np.arange(4, dtype=np.int8))], [T((3, 4), 0.01, 0)],
                 {"act": (5.0, None)})
        m = build_model(c, "hi")
        assert (m.ops[0].options["act_min"], m.ops[0].options["act_max"]) == (127, 127)
        x = np.random.default_rng(0).integers(-128, 128, size=(2, 3, 4)).astype(np.int8)
        assert np.all(Interpreter(m).invoke(x)[0] == 127)
        c.attrs["act"] = (None, -5.0)
        m = build_model(c, "lo")
        assert np.all(Interpreter(m).invoke(x)[0] == -128)
