"""softmax: Python kernel == C kernel byte for byte; == a naive TFLM transliteration; == TFLM."""
from __future__ import annotations


import numpy as np
import pytest

import tflm_ref as ref
from harness import judge_tflite, Case, T, build_model, check_cases, random_inputs
from edgenn.errors import EdgennError
from edgenn.runtime_py.interpreter import Interpreter

OUT = (1.0 / 256.0, -128)


def random_shape(rng: np.random.Generator) -> tuple[int, ...]:
    depth = int(rng.choice([1, 2, 3, 10, int(rng.integers(1, 40)), int(rng.integers(40, 300)),
                            int(rng.integers(300, 1001)), 1000]))
    rows = int(rng.choice([1, 1, 2, 5])) if depth > 100 else int(rng.integers(1, 20))
    lead = [rows] if rng.random() < 0.5 else [1, rows]
    if rng.random() < 0.2:
        return (depth,)
    return tuple(lead) + (depth,)


def random_scale_beta(rng: np.random.Generator) -> tuple[float, float]:
    while True:
        if rng.random() < 0.6:  # typical logits
            scale = float(rng.uniform(0.01, 0.5))
        else:  # from almost flat to one-hot
            scale = float(10 ** rng.uniform(-7.5, 1.3))
        beta = float(rng.choice([1.0, 1.0, 1.0, 0.5, 2.0, 0.1, 10.0, 10 ** rng.uniform(-2, 2)]))
        if beta * scale * 2 ** 26 > 1.0001:
            return scale, beta


def random_case(rng: np.random.Generator) -> Case:
    shape = random_shape(rng)
    scale, beta = random_scale_beta(rng)
    zp = int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))
    return Case("softmax", [T(shape, scale, zp)], [T(shape, *OUT)], {"beta": beta})


def test_softmax_random_cases():
    rng = np.random.default_rng(7)
    cases = [random_case(rng) for _ in range(220)]
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_softmax_python_matches_naive_tflm():
    rng = np.random.default_rng(8)
    for i in range(40):
        case = random_case(rng)
        model = build_model(case, f"n{i}")
        o = model.ops[0].options
        scale, beta = case.inputs[0].scale, case.attrs["beta"]
        assert (o["input_multiplier"], o["input_left_shift"], o["diff_min"]) == \
            ref.softmax_params(float(np.float32(scale)), float(np.float32(beta)))
        x = rng.integers(-128, 128, size=(2,) + case.inputs[0].shape, dtype=np.int16).astype(np.int8)
        got = Interpreter(model).invoke(x)[0]
        depth = x.shape[-1]
        mult, shift, diff_min = o["input_multiplier"], o["input_left_shift"], o["diff_min"]
        for row_x, row_y in zip(x.reshape(-1, depth)[:6], got.reshape(-1, depth)[:6]):
            try:
                want = ref.softmax_row([int(v) for v in row_x], mult, shift, diff_min)
            except ref.TflmAbort:
                want = [-128] * depth  # edgenn's definition where TFLM aborts
            assert row_y.tolist() == want, f"case {i}: python != naive TFLM"


def tflm_aborts(x: np.ndarray, options: dict) -> np.ndarray:
    """Per sample: would TFLM abort (some row's sum of exponentials >= 512, i.e. >= 2**28 in Q12.19)?"""
    from edgenn.runtime_py.fixedpoint import rounding_divide_by_pot
    from edgenn.runtime_py.kernels.softmax import exp_table

    e, valid = exp_table(options)
    terms = np.where(valid, rounding_divide_by_pot(e, 12), 0)
    rows = x.reshape(x.shape[0], -1, x.shape[-1]).astype(np.int16)
    sums = terms[rows - rows.max(axis=-1, keepdims=True) + 255].sum(axis=-1)
    return (sums >= 1 << 28).any(axis=1)


def test_softmax_where_tflm_aborts():
    """Rows whose exponentials sum to >= 512 abort TFLM; edgenn outputs -128 there (Python and C)."""
    case = Case("softmax", [T((3, 600), 0.01, 0)], [T((3, 600), *OUT)], {"beta": 1.0})
    model = build_model(case, "a")
    x = np.zeros((2, 3, 600), np.int8)
    x[1, 1, 7] = 127  # one row peaked: 1 + 599 * exp(-1.27) < 512, TFLM computes it
    assert tflm_aborts(x, model.ops[0].options).tolist() == [True, True]
    y = Interpreter(model).invoke(x)[0]
    assert (y[0] == -128).all() and (y[1, [0, 2]] == -128).all() and y[1, 1, 7] > -128
    with pytest.raises(ref.TflmAbort):
        ref.softmax_row([0] * 600, *ref.softmax_params(0.01, 1.0))
    check_cases([case], samples=3)


def test_softmax_extremes():
    """One-hot and flat rows, the longest rows, the largest multiplier (left shift 31)."""
    cases = [
        Case("softmax", [T((3, 4095), 0.1, 0)], [T((3, 4095), *OUT)], {"beta": 1.0}),
        Case("softmax", [T((1, 10), 100.0, 0)], [T((1, 10), *OUT)], {"beta": 1.0}),  # multiplier capped
        Case("softmax", [T((2, 1), 0.05, 3)], [T((2, 1), *OUT)], {"beta": 1.0}),
        Case("softmax", [T((4, 7), 2e-8, 0)], [T((4, 7), *OUT)], {"beta": 1.0}),  # everything ~ 1/7
    ]
    stats = check_cases(cases, samples=6)
    assert stats["saturated_high"] > 0
    x = np.zeros((1, 1, 10), np.int8)
    x[0, 0, 3] = 5
    y = Interpreter(build_model(cases[1], "o")).invoke(x)[0]
    assert y.reshape(-1).tolist() == [-128] * 3 + [127] + [-128] * 6


def test_softmax_rejects_unsupported():
    with pytest.raises(EdgennError):
        build_model(Case("softmax", [T((1, 4096), 0.1, 0)], [T((1, 4096), *OUT)], {"beta": 1.0}), "a")
    with pytest.raises(EdgennError):
        build_model(Case("softmax", [T((1, 10), 1e-9, 0)], [T((1, 10), *OUT)], {"beta": 1.0}), "b")
    with pytest.raises(EdgennError):
        build_model(Case("softmax", [T((1, 10), 0.1, 0)], [T((1, 10), 1 / 255.0, -128)], {"beta": 1.0}), "c")


def test_softmax_matches_tflm():
    from tflite_builder import TfOp, TfTensor, build
    from edgenn.converter.tflite_import import convert_tflite_bytes

    rng = np.random.default_rng(41)
    cases = []
    for i in range(40):
        shape = random_shape(rng)
        scale, beta = random_scale_beta(rng)
        zp = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
        data = build([TfTensor("x", shape, "int8", scale, zp), TfTensor("y", shape, "int8", *OUT)],
                     [TfOp("SOFTMAX", [0], [1], "SoftmaxOptions", {"Beta": beta})], [0], [1])
        model = convert_tflite_bytes(data, f"t{i}")
        x = random_inputs(model, 3, rng)
        # A peaked sample too: one large logit per row.
        peak = rng.integers(-128, 0, size=(1,) + shape, dtype=np.int16).astype(np.int8)
        peak.reshape(-1, shape[-1])[:, int(rng.integers(0, shape[-1]))] = 120
        x = [np.concatenate([x[0], peak])]
        keep = ~tflm_aborts(x[0], model.ops[0].options)  # TFLM would abort() the whole process
        if not keep.any():
            continue
        cases.append((data, [x[0][keep]]))
    assert len(cases) >= 30
    judge_tflite(cases, "SOFTMAX")
