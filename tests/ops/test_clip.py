"""clip: Python kernel == C kernel byte for byte, == a naive clamp with TFLite-quantized bounds."""
from __future__ import annotations

import numpy as np
import pytest

from harness import Case, T, build_model, check_cases
import tflm_ref as ref
from common import judge_against_tflm, rand_scale, rand_shape, rand_zp
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng) -> Case:
    shape = rand_shape(rng)
    s = rand_scale(rng, 1e-3, 0.5)
    zp = rand_zp(rng)
    kind = int(rng.integers(0, 6))
    lo = float(rng.uniform(-3, 1)) * 128 * s
    hi = lo + float(rng.uniform(0, 2)) * 128 * s
    act = [(None, None), (0.0, None), (0.0, 6.0), (-1.0, 1.0), (lo, hi), (None, hi)][kind]
    t = T(shape, s, zp)
    return Case("clip", [t], [T(shape, s, zp)], {"act": act})


def test_clip_random_cases():
    rng = np.random.default_rng(4242)
    cases = [random_case(rng) for _ in range(210)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_clip_python_kernel_matches_naive():
    rng = np.random.default_rng(10)
    for k in range(40):
        c = random_case(rng)
        t = c.inputs[0]
        lo, hi = c.attrs["act"]
        # TFLite's quantization of the bounds (CalculateActivationRangeQuantized), TFLM's clamp
        # order (min(hi, max(lo, x))), and int8: bounds beyond the int8 range clamp everything.
        act_min, act_max = ref.activation_range((lo, hi), t.scale, t.zero_point)
        model = build_model(c, f"n{k}")
        x = np.resize(np.arange(-128, 128, dtype=np.int16).astype(np.int8), (2,) + t.shape)
        got = Interpreter(model).invoke(x)[0]
        want = np.array([min(127, max(-128, min(act_max, max(act_min, int(v))))) for v in x.reshape(-1)], np.int8)
        want = want.reshape(x.shape)
        assert np.array_equal(got, want), f"case {k}: act {c.attrs['act']}"


def test_clip_requires_shared_quantization():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="quantization differ"):
        build_model(Case("clip", [T((4,), 0.1, 0)], [T((4,), 0.2, 0)], {"act": (0.0, 6.0)}), "bad")


# ----------------------------------------------------------------- TFLM as judge (RELU, RELU6 -> clip)
def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point),
               TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    op = "RELU" if tuple(case.attrs["act"]) == (0.0, None) else "RELU6"
    return build(tensors, [TfOp(op, [0], [1])], [0], [1])


def test_clip_matches_tflm_relu_and_relu6():
    rng = np.random.default_rng(20)
    cases = []
    for k in range(24):
        c = random_case(rng)
        c.attrs["act"] = [(0.0, None), (0.0, 6.0)][k % 2]
        cases.append(c)
    assert judge_against_tflm(cases, "RELU/RELU6", to_tflite) == 24


# ----------------------------------------------------------------- requantizing RELU (TFLM ReluQuantized)
def random_relu_requant_case(rng) -> Case:
    shape = rand_shape(rng)
    sx, sy = rand_scale(rng, 1e-3, 0.5), rand_scale(rng, 1e-3, 0.5)
    return Case("clip", [T(shape, sx, rand_zp(rng))], [T(shape, sy, rand_zp(rng))],
                {"act": (0.0, None), "requantize": True})


def test_requantizing_relu_python_equals_c():
    rng = np.random.default_rng(77)
    stats = check_cases([random_relu_requant_case(rng) for _ in range(200)], samples=3)
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_requantizing_relu_matches_tflm():
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from tflite_builder import run_tflm

    rng = np.random.default_rng(78)
    for k in range(25):
        c = random_relu_requant_case(rng)
        data = to_tflite(c, "RELU")
        model = convert_tflite_bytes(data, f"r{k}")
        x = rng.integers(-128, 128, (4,) + tuple(c.inputs[0].shape)).astype(np.int8)
        x[0], x[1] = -128, 127
        got = Interpreter(model).invoke(x)[0]
        want = run_tflm(data, [x])[0].reshape(got.shape)
        assert np.array_equal(got, want), f"case {k}"
