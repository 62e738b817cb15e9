"""leaky_relu: Python kernel == C kernel byte for byte; == a naive TFLM transliteration; == TFLM."""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from harness import Case, T, build_model, check_cases
from common import judge_unary, rand_scale, rand_shape, rand_zp, unary_tflite
from edgenn.runtime_py.interpreter import Interpreter


def rand_alpha(rng) -> float:
    return float(rng.choice([0.01, 0.1, 0.2, 0.3, 0.0, -0.5, 1.0, 1.5, -2.0, float(rng.uniform(-3, 3))]))


def random_quant(rng) -> tuple[float, int, float, int]:
    sx = rand_scale(rng, 1e-3, 1.0)
    # Same, similar, much finer (saturates at both ends) or much coarser (collapses onto the zero point).
    sy = sx * float(rng.choice([1.0, rand_scale(rng, 0.3, 3.0), rand_scale(rng, 0.3, 3.0), 0.01, 50.0,
                                rand_scale(rng, 1e-3, 1e3)]))
    return sx, rand_zp(rng), sy, rand_zp(rng)


def random_case(rng) -> Case:
    shape = rand_shape(rng)
    sx, zx, sy, zy = random_quant(rng)
    return Case("leaky_relu", [T(shape, sx, zx)], [T(shape, sy, zy)], {"alpha": rand_alpha(rng)})


def test_leaky_relu_random_cases():
    rng = np.random.default_rng(51)
    cases = [random_case(rng) for _ in range(230)]
    assert any(c.attrs["alpha"] < 0 for c in cases) and any(c.attrs["alpha"] > 1 for c in cases)
    stats = check_cases(cases, samples=4)
    assert stats["cases"] == 230
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_leaky_relu_python_matches_naive_tflm():
    """All 256 input values of 80 random quantizations and slopes."""
    rng = np.random.default_rng(52)
    f = np.float32
    for i in range(80):
        sx, zx, sy, zy = random_quant(rng)
        alpha = rand_alpha(rng)
        case = Case("leaky_relu", [T((256,), sx, zx)], [T((256,), sy, zy)], {"alpha": alpha})
        model = build_model(case, f"n{i}")
        o = model.ops[0].options
        params = ref.leaky_relu_params(float(f(sx)), zx, float(f(sy)), zy, float(f(alpha)))
        assert tuple(o[k] for k in ("input_zero_point", "output_zero_point", "output_multiplier_alpha",
                                    "output_shift_alpha", "output_multiplier_identity",
                                    "output_shift_identity")) == params
        x = np.arange(-128, 128, dtype=np.int16).astype(np.int8)[None]
        got = Interpreter(model).invoke(x)[0][0]
        want = [ref.leaky_relu_value(v, *params) for v in range(-128, 128)]
        assert got.tolist() == want, f"case {i} ({sx}, {zx}) -> ({sy}, {zy}) alpha {alpha}: python != naive TFLM"


def test_leaky_relu_negative_alpha_is_negated_magnitude():
    """TFLM multiplies a negative input by |alpha multiplier| and negates the result. The multiply
    rounds x * 0.75 halves up (toward +inf, x < 0), so after the negation |alpha x| rounds halves
    down: x = -126 gives 94, where a negative multiplier applied directly would give 95."""
    case = Case("leaky_relu", [T((256,), 0.02, 0)], [T((256,), 0.02, 0)], {"alpha": -0.75})
    y = Interpreter(build_model(case, "neg")).invoke(np.arange(-128, 128, dtype=np.int16).astype(np.int8)[None])[0][0]
    x = np.arange(-128, 128)
    want = np.where(x >= 0, x, np.clip(np.ceil(0.75 * np.abs(x) - 0.5), -128, 127))
    assert y.tolist() == want.astype(int).tolist()


def test_leaky_relu_matches_tflm():
    rng = np.random.default_rng(53)
    datas = []
    for i in range(32):
        sx, zx, sy, zy = random_quant(rng)
        alpha = [0.01, 0.2, -0.5, 0.0, 1.5, -3.0][i] if i < 6 else rand_alpha(rng)
        if i == 6:
            sy, zy = sx, zx  # shared quantization
        shape = (1, 256) if i % 2 else rand_shape(rng)
        if i == 7:  # no options table: TFLM's alpha defaults to 0
            datas.append(unary_tflite("LEAKY_RELU", shape, (sx, zx), (sy, zy)))
            continue
        datas.append(unary_tflite("LEAKY_RELU", shape, (sx, zx), (sy, zy), "LeakyReluOptions", {"Alpha": alpha}))
    assert judge_unary(datas, seed=54) == 32
