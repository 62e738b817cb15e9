"""quantize (int8 -> int8): Python kernel == C kernel, == a naive TFLM Requantize, == TFLM itself."""
from __future__ import annotations

import numpy as np

from harness import Case, T, build_model, check_cases
import tflm_ref as ref
from common import judge_against_tflm, rand_scale, rand_shape, rand_zp
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng) -> Case:
    shape = rand_shape(rng)
    s_in = rand_scale(rng, 1e-4, 1.0)
    # From much finer (saturates at both ends) to much coarser (collapses onto the zero point).
    s_out = s_in * float(rng.choice([1.0, rand_scale(rng, 0.5, 2.0), rand_scale(rng, 1e-3, 1e3), 0.01, 50.0]))
    return Case("quantize", [T(shape, s_in, rand_zp(rng))], [T(shape, s_out, rand_zp(rng))])


def naive_requantize(x: int, s_in: float, z_in: int, s_out: float, z_out: int) -> int:
    """PrepareQuantizeReference + reference_ops::Requantize, one element."""
    m, sh = ref.quantize_multiplier(float(np.float32(s_in)) / float(np.float32(s_out)))
    return max(min(ref.mbqm(x - z_in, m, sh) + z_out, 127), -128)


def test_quantize_random_cases():
    rng = np.random.default_rng(5150)
    cases = [random_case(rng) for _ in range(210)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_quantize_python_kernel_matches_naive_tflm_formulas():
    rng = np.random.default_rng(9)
    for k in range(40):
        c = random_case(rng)
        ti, to = c.inputs[0], c.outputs[0]
        model = build_model(c, f"n{k}")
        x = np.arange(-128, 128, dtype=np.int16).astype(np.int8)  # every input value once
        x = np.resize(x, (2,) + ti.shape)
        got = Interpreter(model).invoke(x)[0]
        want = np.vectorize(lambda v: naive_requantize(int(v), ti.scale, ti.zero_point, to.scale, to.zero_point))(x)
        assert np.array_equal(got, want.astype(np.int8)), f"case {k}"


def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point),
               TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    return build(tensors, [TfOp("QUANTIZE", [0], [1])], [0], [1])


def test_quantize_matches_tflm():
    rng = np.random.default_rng(11)
    assert judge_against_tflm([random_case(rng) for _ in range(30)], "QUANTIZE", to_tflite) == 30
