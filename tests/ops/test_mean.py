"""mean (and TFLM's SUM, the same kernel without the 1/count): Python kernel == C kernel byte for
byte; == a naive TFLM transliteration; == TFLM's MEAN and SUM."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import tflm_ref as ref
from common import reduce_tflite
from harness import judge_tflite, Case, T, build_model, check_cases, random_inputs
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng: np.random.Generator, compute_sum: bool = False) -> Case:
    kind = rng.random()
    if kind < 0.35:  # global average pooling as Keras / ONNX GlobalAveragePool produce it
        shape = (int(rng.choice([1, 1, 2])), int(rng.integers(1, 17)), int(rng.integers(1, 17)),
                 int(rng.integers(1, 33)))
        axes = [1, 2] if rng.random() < 0.8 else [2, 1]
    else:
        rank = int(rng.integers(1, 6))
        shape = tuple(int(v) for v in rng.integers(1, 7 if rank > 3 else 13, size=rank))
        k = int(rng.integers(1, rank + 1)) if rng.random() < 0.9 else rank
        axes = sorted(int(a) for a in rng.choice(rank, size=k, replace=False))
        if rng.random() < 0.3:
            axes = [a - rank if rng.random() < 0.5 else a for a in axes]  # negative axes
    rank = len(shape)
    keep = bool(rng.integers(0, 2))
    red = {a % rank for a in axes}
    out_shape = tuple(1 if i in red else d for i, d in enumerate(shape)) if keep else \
        tuple(d for i, d in enumerate(shape) if i not in red)
    xs = float(rng.uniform(0.005, 0.2))
    same = rng.random() < 0.25
    ys = xs if same else float(xs * rng.choice([0.01, 0.1, 0.5, 0.9, 1.0, 1.7, 4.0, 30.0]) * rng.uniform(0.8, 1.25))
    if compute_sum and not same:  # a sum's range grows with the count (sometimes as far)
        count = int(np.prod([shape[a] for a in red], dtype=np.int64))
        ys *= float(rng.choice([1.0, np.sqrt(count), count]))
    xz = int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))
    yz = xz if same else int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))
    attrs = {"axes": axes, "keep_dims": keep}
    if compute_sum:
        attrs["compute_sum"] = True
    return Case("mean", [T(shape, xs, xz)], [T(out_shape, ys, yz)], attrs)


# ------------------------------------------------------------------ naive TFLM transliteration

def tflm_mean(x: np.ndarray, axes, in_scale, in_zp, out_scale, out_zp, compute_sum: bool = False) -> np.ndarray:
    """PrepareMeanOrSumHelper + QuantizedMeanOrSum<int8_t, int32_t>(compute_sum), on Python ints."""
    mult, shift = ref.quantize_multiplier(float(np.float32(in_scale)) / float(np.float32(out_scale)))
    rank = x.ndim
    resolved = []
    for a in axes:
        a = a + rank if a < 0 else a
        if a not in resolved:
            resolved.append(a)
    out_dims = [d for i, d in enumerate(x.shape) if i not in resolved]
    sums = {}
    for idx in itertools.product(*(range(d) for d in x.shape)):
        key = tuple(v for i, v in enumerate(idx) if i not in resolved)
        sums[key] = ref.wrap(sums.get(key, 0) + int(x[idx]))
    num = 1
    for a in resolved:
        num *= x.shape[a]
    if not compute_sum:
        s = num.bit_length() - 1  # 63 - CountLeadingZeros(uint64)
        s = min(s, 32)
        s = min(s, 31 + shift)
        mult = (mult << s) // num  # int64 division of positive values
        shift = shift - s
    out = np.zeros(out_dims, np.int64)
    for key, v in sums.items():
        shifted = ref.wrap(v - in_zp * num)
        out[key] = max(-128, min(127, ref.mbqm(shifted, mult, shift) + out_zp))
    return out.astype(np.int8)


def test_mean_random_cases():
    rng = np.random.default_rng(99)
    cases = [random_case(rng) for _ in range(230)]
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 230
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_sum_random_cases():
    rng = np.random.default_rng(101)
    cases = [random_case(rng, compute_sum=True) for _ in range(210)]
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.parametrize("compute_sum", [False, True])
def test_mean_python_matches_naive_tflm(compute_sum):
    rng = np.random.default_rng(5 + compute_sum)
    for i in range(60):
        case = random_case(rng, compute_sum)
        model = build_model(case, f"n{i}")
        x = rng.integers(-128, 128, size=(3,) + case.inputs[0].shape, dtype=np.int16).astype(np.int8)
        x[0] = rng.choice([-128, 127])
        got = Interpreter(model).invoke(x)[0]
        t_in, t_out = case.inputs[0], case.outputs[0]
        for s in range(3):
            want = tflm_mean(x[s], case.attrs["axes"], t_in.scale, t_in.zero_point, t_out.scale, t_out.zero_point,
                             compute_sum)
            assert np.array_equal(got[s].reshape(-1), want.reshape(-1)), f"case {i} {case.attrs}: python != naive TFLM"


def test_mean_large_reductions():
    """Large windows (long sums, big divisors) and scale ratios that give positive shifts."""
    cases = [
        Case("mean", [T((1, 64, 64, 3), 0.05, -128)], [T((1, 1, 1, 3), 0.05, -128)],
             {"axes": [1, 2], "keep_dims": True}),
        Case("mean", [T((1, 96, 96, 1), 0.1, 127)], [T((1,), 0.001, 0)], {"axes": [1, 2, 3], "keep_dims": False}),
        Case("mean", [T((1, 3, 1000), 0.5, 3)], [T((1, 3), 0.002, -5)], {"axes": [2], "keep_dims": False}),
        Case("mean", [T((2, 2, 2), 0.5, 0)], [T((2, 2), 0.01, 0)], {"axes": [0], "keep_dims": False}),
    ]
    check_cases(cases, samples=5)


def test_mean_without_axes_requantizes():
    """An empty axis list averages single elements: a plain requantization (Python only: codegen
    cannot yet emit the empty axes array)."""
    case = Case("mean", [T((7, 5), 0.5, 3)], [T((7, 5), 0.1, -4)], {"axes": [], "keep_dims": True})
    x = np.arange(-128, 128, dtype=np.int16)[:245].astype(np.int8).reshape(7, 7, 5)
    got = Interpreter(build_model(case, "e")).invoke(x)[0]
    for s in range(7):
        assert np.array_equal(got[s], tflm_mean(x[s], [], 0.5, 3, 0.1, -4))


@pytest.mark.parametrize("code", ["MEAN", "SUM"])
def test_mean_and_sum_match_tflm(code):
    from edgenn.converter.tflite_import import convert_tflite_bytes

    rng = np.random.default_rng(31 if code == "MEAN" else 32)
    cases = []
    for i in range(40):
        data = reduce_tflite(random_case(rng, code == "SUM"), code)
        cases.append((data, random_inputs(convert_tflite_bytes(data, f"t{i}"), 4, rng)))
    assert judge_tflite(cases, code) == 40
