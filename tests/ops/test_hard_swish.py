"""hard_swish: Python kernel == C kernel byte for byte; == a naive TFLM transliteration; == TFLM."""
from __future__ import annotations

import numpy as np
import pytest

import tflm_ref as ref
from harness import Case, T, build_model, check_cases
from common import judge_unary, rand_scale, rand_shape, rand_zp, unary_tflite
from edgenn.errors import EdgennError
from edgenn.runtime_py.interpreter import Interpreter


def random_quant(rng) -> tuple[float, int, float, int]:
    kind = int(rng.integers(0, 8))
    sx = rand_scale(rng, 0.003, 0.3)
    ratio = rand_scale(rng, 0.3, 1.5)  # output scale / input scale: typical
    if kind == 4:
        ratio = rand_scale(rng, 0.009, 0.3)  # fine output: saturates high (TFLM needs ratio > 1/128)
    elif kind == 5:
        ratio = rand_scale(rng, 600.0, 5000.0)  # output multiplier exponent <= -16 (int16 rounding quirk)
    elif kind == 6:
        sx = rand_scale(rng, 1e-7, 5e-3)  # relu-ish multiplier right-shifts (exponent < 0, down to -20)
    elif kind == 7:
        sx = rand_scale(rng, 0.5, 100.0)  # large relu-ish left shifts, saturating
    return sx, rand_zp(rng), sx * ratio, rand_zp(rng)


def random_case(rng) -> Case:
    shape = rand_shape(rng)
    sx, zx, sy, zy = random_quant(rng)
    return Case("hard_swish", [T(shape, sx, zx)], [T(shape, sy, zy)])


def _options(model) -> tuple[int, ...]:
    o = model.ops[0].options
    return tuple(o[k] for k in ("input_zero_point", "output_zero_point", "reluish_multiplier_fixedpoint_int16",
                                "reluish_multiplier_exponent", "output_multiplier_fixedpoint_int16",
                                "output_multiplier_exponent"))


def test_hard_swish_random_cases():
    rng = np.random.default_rng(71)
    cases = [random_case(rng) for _ in range(240)]
    models = [build_model(c, f"p{i}") for i, c in enumerate(cases)]
    exps = [_options(m) for m in models]
    assert min(e[3] for e in exps) < 0 < max(e[3] for e in exps)  # both relu-ish shift directions
    assert min(e[5] for e in exps) <= -16  # the int16 rounding quirk
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 240
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_hard_swish_python_matches_naive_tflm():
    """All 256 input values of 80 random quantizations."""
    rng = np.random.default_rng(72)
    f = np.float32
    for i in range(80):
        sx, zx, sy, zy = random_quant(rng)
        case = Case("hard_swish", [T((256,), sx, zx)], [T((256,), sy, zy)])
        model = build_model(case, f"n{i}")
        params = ref.hard_swish_params(float(f(sx)), zx, float(f(sy)), zy)
        assert _options(model) == params
        x = np.arange(-128, 128, dtype=np.int16).astype(np.int8)[None]
        got = Interpreter(model).invoke(x)[0][0]
        want = [ref.hard_swish_value(v, *params) for v in range(-128, 128)]
        assert got.tolist() == want, f"case {i} ({sx}, {zx}) -> ({sy}, {zy}): python != naive TFLM"


def test_hard_swish_shape_and_zero_quirk():
    """A plain case follows x * relu6(x + 3) / 6 within an LSB; with an output scale 1000x the input's,
    TFLM's int16 RoundingDivideByPOT (exponent >= 16: its mask truncates to -1) maps 0 to 1 LSB."""
    x = np.arange(-128, 128, dtype=np.int16).astype(np.int8)[None]
    y = Interpreter(build_model(Case("hard_swish", [T((256,), 0.05, 0)], [T((256,), 0.05, 0)]), "a")).invoke(x)[0][0]
    r = np.arange(-128, 128) * 0.05
    assert np.max(np.abs(y * 0.05 - r * np.clip(r + 3, 0, 6) / 6)) <= 0.05 * 1.01
    m = build_model(Case("hard_swish", [T((256,), 0.001, 0)], [T((256,), 1.0, 0)]), "q")
    assert _options(m)[5] == -16
    y = Interpreter(m).invoke(x)[0][0]
    assert y[128] == 1 and set(y[:128].tolist()) == {-1} and set(y[128:].tolist()) == {1}


def test_hard_swish_rejects_what_tflm_rejects():
    with pytest.raises(EdgennError, match="input scale / 128"):
        build_model(Case("hard_swish", [T((4,), 1.0, 0)], [T((4,), 1.0 / 130, 0)]), "bad")


def test_hard_swish_matches_tflm():
    rng = np.random.default_rng(73)
    datas = []
    # Output exponent -16 (0 -> 1 LSB), -18, -23; relu-ish exponent -13, +11, +14 (saturating shifts).
    fixed = [(0.001, 0, 1.0, 0), (0.001, 5, 4.0, -3), (1e-4, -100, 10.0, 100), (1e-6, 0, 1e-3, 0),
             (20.0, 0, 1.0, 0), (100.0, 3, 20.0, -7), (0.5, 0, 0.01, 0)]
    for i in range(32):
        sx, zx, sy, zy = fixed[i] if i < len(fixed) else random_quant(rng)
        shape = (1, 256) if i % 2 else rand_shape(rng)
        datas.append(unary_tflite("HARD_SWISH", shape, (sx, zx), (sy, zy)))
    assert judge_unary(datas, seed=74) == 32
