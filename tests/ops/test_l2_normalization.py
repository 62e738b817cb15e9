"""l2_normalization: Python kernel == C kernel byte for byte, == a line-by-line transliteration of
TFLM's L2Normalization and GetInvSqrtQuantizedMultiplierExp, == TFLM's L2_NORMALIZATION; close to the
real x / ||x||."""
from __future__ import annotations

import numpy as np
import pytest

import tflm_ref as ref
from common import judge_unary, rand_scale, rand_zp, unary_tflite
from harness import Case, T, build_model, check_cases
from edgenn.errors import UnsupportedOpError
from edgenn.runtime_py.fixedpoint import get_inv_sqrt_quantized_multiplier_exp
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_rank: int = 4) -> Case:
    rank = int(rng.integers(1, max_rank + 1))
    shape = [int(v) for v in rng.integers(1, 6, size=rank)]
    shape[-1] = int(rng.choice([1, 2, 3, int(rng.integers(4, 65)), int(rng.integers(65, 1500))]))
    return Case("l2_normalization", [T(tuple(shape), rand_scale(rng), rand_zp(rng))], [T(tuple(shape), 1 / 128, 0)])


def test_l2_normalization_random_cases():
    rng = np.random.default_rng(3801)
    stats = check_cases([random_case(rng) for _ in range(210)], samples=4)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_inv_sqrt_matches_the_transliteration():
    rng = np.random.default_rng(3802)
    xs = [0, 1, 2, 3, 4, 5, (1 << 27) - 1, 1 << 27, (1 << 29) - 1, 1 << 29, (1 << 31) - 1] + \
        [int(v) for v in rng.integers(0, 1 << 31, 3000)] + [int(v) for v in rng.integers(2, 70000, 3000)]
    m, s = get_inv_sqrt_quantized_multiplier_exp(np.asarray(xs))
    for x, mi, si in zip(xs, m, s):
        assert (int(mi), int(si)) == ref.inv_sqrt_exp(x), x
        if x > 1:  # and it is 1/sqrt(x) to about 7 digits
            assert abs(int(mi) * 2.0 ** (int(si) - 31) * np.sqrt(x) - 1) < 2e-6, x


def test_l2_normalization_python_matches_naive_and_real_values():
    rng = np.random.default_rng(3803)
    for k in range(40):
        c = random_case(rng)
        t = c.inputs[0]
        x = rng.integers(-128, 128, size=(2,) + t.shape).astype(np.int8)
        got = Interpreter(build_model(c, f"n{k}")).invoke(x)[0]
        rows = x.reshape(-1, t.shape[-1]).astype(int)
        want = np.asarray([ref.l2_normalization_row(list(r), t.zero_point) for r in rows])
        assert np.array_equal(got.reshape(want.shape), want), f"case {k}"
        v = rows - t.zero_point
        norm = np.sqrt((v * v).sum(axis=1, keepdims=True))
        real = np.divide(v, norm, out=np.zeros(v.shape), where=norm > 0) * 128
        err = float(np.max(np.abs(got.reshape(want.shape) - np.clip(real, -128, 127))))
        assert err < 1.0, f"case {k}: {err:.3f} steps from x / ||x||"  # TFLM rounds twice


def test_l2_normalization_matches_tflm():
    rng = np.random.default_rng(3804)
    datas = []
    for _ in range(40):
        c = random_case(rng)
        x = c.inputs[0]
        datas.append(unary_tflite("L2_NORMALIZATION", x.shape, (x.scale, x.zero_point), (1 / 128, 0),
                                  "L2NormOptions", {"FusedActivationFunction": 0}))
    assert judge_unary(datas) == 40


def test_tflite_fused_activation_is_refused():
    from edgenn.converter.tflite_import import convert_tflite_bytes

    data = unary_tflite("L2_NORMALIZATION", (1, 8), (0.1, 0), (1 / 128, 0), "L2NormOptions",
                        {"FusedActivationFunction": 1})
    with pytest.raises(UnsupportedOpError, match="fused activation"):
        convert_tflite_bytes(data, "t")
