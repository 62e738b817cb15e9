"""lrn (edgenn's integer local response normalization; TFLM has no int8 kernel to judge it): Python
kernel == C kernel byte for byte, == a scalar transliteration of the documented formula, and within
one output step of the real LRN of the dequantized input on AlexNet / GoogLeNet-like ranges."""
from __future__ import annotations

import numpy as np
import pytest

import tflm_ref as ref
from common import rand_zp
from harness import Case, T, build_model, check_cases
from edgenn.errors import EdgennError
from edgenn.runtime_py.interpreter import Interpreter

# (size, alpha, beta, bias): AlexNet (Caffe / torchvision), GoogLeNet, TensorFlow's defaults, ONNX's
PARAMS = [(5, 1e-4, 0.75, 1.0), (5, 1e-4, 0.75, 2.0), (5, 2e-5, 0.75, 1.0), (11, 1e-3, 0.75, 1.0),
          (3, 5e-3, 0.5, 1.0), (1, 1e-2, 1.0, 0.5), (2, 1e-3, 0.75, 1.0), (7, 1e-4, 0.0, 1.0)]


def random_case(rng) -> Case:
    size, alpha, beta, bias = PARAMS[int(rng.integers(0, len(PARAMS)))]
    rank = int(rng.integers(2, 5))
    shape = tuple(int(v) for v in rng.integers(1, 6, size=rank - 1)) + (int(rng.integers(1, 97)),)
    # Activations of a few units to a few hundred units (after ReLU in AlexNet): alpha * s^2 * S
    # from negligible to dominating the bias.
    s_in = float(np.exp(rng.uniform(np.log(0.01), np.log(3.0))))
    s_out = s_in * float(np.exp(rng.uniform(np.log(0.05), np.log(2.0))))
    return Case("lrn", [T(shape, s_in, rand_zp(rng))], [T(shape, s_out, rand_zp(rng))],
                {"size": size, "alpha": alpha, "beta": beta, "bias": bias})


def real_lrn(x: np.ndarray, size: int, alpha: float, beta: float, bias: float) -> np.ndarray:
    """ONNX LRN over the last axis, float64."""
    c = x.shape[-1]
    out = np.empty_like(x)
    for k in range(c):
        lo, hi = max(0, k - (size - 1) // 2), min(c - 1, k + size - 1 - (size - 1) // 2)
        s = np.sum(x[..., lo:hi + 1] ** 2, axis=-1)
        out[..., k] = x[..., k] / (bias + alpha / size * s) ** beta
    return out


def scalar_lrn(row: list[int], table: list[int], o: dict) -> list[int]:
    """The integer formula of converter/ops/lrn.py, one pixel, on Python ints."""
    c = len(row)
    v = [q + o["input_offset"] for q in row]
    res = []
    for k in range(c):
        s = sum(v[j] ** 2 for j in range(max(0, k - o["before"]), min(c, k + o["after"] + 1)))
        if s < 64:
            t = table[s]
        else:
            oc = s.bit_length() - 1 - 6
            i = (s >> oc) + 64 * oc
            t = table[i] + (((table[i + 1] - table[i]) * (s & ((1 << oc) - 1))) >> oc)
        r = ref.srdhm(v[k] << 22, t)
        res.append(max(-128, min(127, ref.mbqm(r, o["multiplier"], o["shift"]) + o["output_offset"])))
    return res


def test_lrn_random_cases():
    rng = np.random.default_rng(4001)
    stats = check_cases([random_case(rng) for _ in range(220)], samples=4)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_lrn_python_matches_the_scalar_formula():
    rng = np.random.default_rng(4002)
    for k in range(30):
        c = random_case(rng)
        m = build_model(c, f"n{k}")
        op = m.ops[0]
        table = [int(v) for v in m.tensors[op.inputs[1]].data.reshape(-1)]
        x = rng.integers(-128, 128, size=(2,) + c.inputs[0].shape).astype(np.int8)
        got = Interpreter(m).invoke(x)[0]
        rows = x.reshape(-1, c.inputs[0].shape[-1]).astype(int).tolist()
        want = [scalar_lrn(r, table, op.options) for r in rows]
        assert np.array_equal(got.reshape(-1), np.asarray(want).reshape(-1)), f"case {k}"


def test_lrn_is_within_one_step_of_the_real_function():
    rng = np.random.default_rng(4003)
    worst = 0.0
    for k in range(60):
        c = random_case(rng)
        ti, to = c.inputs[0], c.outputs[0]
        x = rng.integers(-128, 128, size=(3,) + ti.shape).astype(np.int8)
        got = Interpreter(build_model(c, f"r{k}")).invoke(x)[0].astype(np.float64)
        a = c.attrs
        real = real_lrn((x.astype(np.float64) - ti.zero_point) * float(np.float32(ti.scale)), a["size"], a["alpha"],
                        a["beta"], a["bias"])
        want = np.clip(real / float(np.float32(to.scale)) + to.zero_point, -128, 127)
        worst = max(worst, float(np.max(np.abs(got - want))))
    assert worst <= 0.51, worst  # rounding to the nearest step, plus the table's interpolation


def test_lrn_refuses_a_negative_beta():
    c = Case("lrn", [T((1, 4, 4, 8), 0.1, 0)], [T((1, 4, 4, 8), 0.1, 0)],
             {"size": 3, "alpha": 1e-4, "beta": -0.5, "bias": 1.0})
    with pytest.raises(EdgennError, match="beta"):
        build_model(c, "bad")
