"""transpose: Python kernel == C kernel byte for byte, == numpy, == TFLM itself (rank <= 5 there)."""
from __future__ import annotations

import numpy as np
import pytest

from harness import Case, T, build_model, check_cases
from common import judge_against_tflm, rand_scale, rand_shape, rand_zp
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_rank: int = 6) -> Case:
    shape = rand_shape(rng, max_rank, 5 if max_rank < 6 else 4)
    perm = [int(p) for p in rng.permutation(len(shape))]
    s, zp = rand_scale(rng), rand_zp(rng)
    out = tuple(shape[p] for p in perm)
    return Case("transpose", [T(shape, s, zp)], [T(out, s, zp)], {"perm": perm})


FIXED = [((1, 4, 5, 3), (0, 3, 1, 2)), ((1, 3, 4, 5), (0, 2, 3, 1)), ((2, 3), (1, 0)), ((7,), (0,)),
         ((2, 3, 4, 5, 3, 2), (5, 4, 3, 2, 1, 0)), ((1, 1, 6, 1, 5), (4, 3, 2, 1, 0)), ((3, 4, 5), (0, 1, 2))]


def test_transpose_random_cases():
    rng = np.random.default_rng(1618)
    cases = [Case("transpose", [T(s, 0.05, -3)], [T(tuple(s[p] for p in perm), 0.05, -3)], {"perm": list(perm)})
             for s, perm in FIXED]
    cases += [random_case(rng) for _ in range(205)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_transpose_python_kernel_matches_numpy():
    rng = np.random.default_rng(18)
    for k in range(30):
        c = random_case(rng)
        model = build_model(c, f"n{k}")
        x = rng.integers(-128, 128, size=(2,) + c.inputs[0].shape).astype(np.int8)
        got = Interpreter(model).invoke(x)[0]
        assert np.array_equal(got, np.transpose(x, [0] + [p + 1 for p in c.attrs["perm"]])), f"case {k}"


def test_transpose_rejects_bad_perm():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="permutation"):
        build_model(Case("transpose", [T((2, 3), 0.1, 0)], [T((3, 2), 0.1, 0)], {"perm": [1, 1]}), "bad")


def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    perm = np.asarray(case.attrs["perm"], np.int32)
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point),
               TfTensor("perm", perm.shape, "int32", data=perm),
               TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    return build(tensors, [TfOp("TRANSPOSE", [0, 1], [2], "TransposeOptions")], [0], [2])


def test_transpose_matches_tflm():
    rng = np.random.default_rng(19)
    assert judge_against_tflm([random_case(rng, 5) for _ in range(30)], "TRANSPOSE", to_tflite) == 30
