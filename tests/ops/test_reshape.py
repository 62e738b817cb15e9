"""reshape: Python kernel == C kernel byte for byte, == numpy, == TFLM itself."""
from __future__ import annotations

import numpy as np

from harness import Case, T, build_model, check_cases
from common import judge_against_tflm, rand_scale, rand_shape, rand_zp
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_rank: int = 6) -> Case:
    shape = rand_shape(rng, max_rank, 6)
    size = int(np.prod(shape))
    # a random factorization of the same size into 1..max_rank axes
    new, rest = [], size
    for _ in range(int(rng.integers(0, max_rank))):
        divs = [d for d in range(1, rest + 1) if rest % d == 0]
        d = int(rng.choice(divs))
        new.append(d)
        rest //= d
    new.append(rest)
    rng.shuffle(new)
    s, zp = rand_scale(rng), rand_zp(rng)
    return Case("reshape", [T(shape, s, zp)], [T(tuple(int(v) for v in new), s, zp)])


def test_reshape_random_cases():
    rng = np.random.default_rng(2718)
    cases = [random_case(rng) for _ in range(210)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_reshape_python_kernel_matches_numpy():
    rng = np.random.default_rng(16)
    for k in range(30):
        c = random_case(rng)
        model = build_model(c, f"n{k}")
        x = rng.integers(-128, 128, size=(2,) + c.inputs[0].shape).astype(np.int8)
        got = Interpreter(model).invoke(x)[0]
        assert np.array_equal(got, x.reshape((2,) + c.outputs[0].shape)), f"case {k}"


def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    new_shape = np.asarray(y.shape, np.int32)
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point),
               TfTensor("shape", (len(y.shape),), "int32", data=new_shape),
               TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    op = TfOp("RESHAPE", [0, 1], [2], "ReshapeOptions", {"NewShape": [int(v) for v in y.shape]})
    return build(tensors, [op], [0], [2])


def test_reshape_matches_tflm():
    rng = np.random.default_rng(17)
    assert judge_against_tflm([random_case(rng, 5) for _ in range(25)], "RESHAPE", to_tflite) == 25
