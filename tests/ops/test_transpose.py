"""transpose: Python kernel == C kernel byte for byte, == numpy, == TFLM itself (rank <= 5 there)."""
from __future__ import annotations

import numpy as np
import pytest

from harness import Case, T, build_model, check_cases
from common import judge_against_tflm, rand_scale, rand_shape, rand_zp, rearrange_tflite
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


# DEPTH_TO_SPACE, SPACE_TO_DEPTH, SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND are imported as reshape +
# rank-6 transpose + reshape (+ slice): judged by TFLM as the whole chain.

def test_depth_to_space_matches_tflm():
    rng = np.random.default_rng(101)
    cases = []
    for _ in range(25):
        b = int(rng.integers(1, 4))
        n, h, w, c = 1, int(rng.integers(1, 5)), int(rng.integers(1, 5)), b * b * int(rng.integers(1, 4))
        s, zp = rand_scale(rng), rand_zp(rng)
        cases.append(Case("transpose", [T((n, h, w, c), s, zp)], [T((n, h * b, w * b, c // (b * b)), s, zp)], {"block": b}))
    assert judge_against_tflm(cases, "DEPTH_TO_SPACE", rearrange_tflite) == 25


def test_space_to_depth_matches_tflm():
    rng = np.random.default_rng(102)
    cases = []
    for _ in range(25):
        b = int(rng.integers(1, 4))
        n, h, w, c = int(rng.integers(1, 3)), b * int(rng.integers(1, 4)), b * int(rng.integers(1, 4)), int(rng.integers(1, 4))
        s, zp = rand_scale(rng), rand_zp(rng)
        cases.append(Case("transpose", [T((n, h, w, c), s, zp)], [T((n, h // b, w // b, c * b * b), s, zp)], {"block": b}))
    assert judge_against_tflm(cases, "SPACE_TO_DEPTH", rearrange_tflite) == 25


def test_space_to_batch_nd_matches_tflm():
    rng = np.random.default_rng(103)
    cases = []
    for _ in range(25):
        bh, bw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        n, oh, ow, c = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        s, zp = rand_scale(rng), rand_zp(rng)
        if rng.random() < 0.3:  # 3-D: (N, H, C), one block size
            cases.append(Case("transpose", [T((n, oh * bh, c), s, zp)], [T((n * bh, oh, c), s, zp)],
                              {"block": [bh], "pads": [0, 0]}))
        else:
            cases.append(Case("transpose", [T((n, oh * bh, ow * bw, c), s, zp)], [T((n * bh * bw, oh, ow, c), s, zp)],
                              {"block": [bh, bw], "pads": [0, 0, 0, 0]}))
    assert judge_against_tflm(cases, "SPACE_TO_BATCH_ND", rearrange_tflite) == 25


def test_batch_to_space_nd_matches_tflm():
    rng = np.random.default_rng(104)
    cases = []
    for _ in range(25):
        bh, bw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        n, h, w, c = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        ct, cb = int(rng.integers(0, bh)), int(rng.integers(0, bh))
        cl, cr = int(rng.integers(0, bw)), int(rng.integers(0, bw))
        if h * bh - ct - cb < 1 or w * bw - cl - cr < 1:
            ct = cb = cl = cr = 0
        s, zp = rand_scale(rng), rand_zp(rng)
        cases.append(Case("transpose", [T((n * bh * bw, h, w, c), s, zp)],
                          [T((n, h * bh - ct - cb, w * bw - cl - cr, c), s, zp)],
                          {"block": [bh, bw], "pads": [ct, cb, cl, cr]}))
    assert judge_against_tflm(cases, "BATCH_TO_SPACE_ND", rearrange_tflite) == 25


def test_space_to_batch_nd_with_padding_is_refused():
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.errors import UnsupportedOpError

    c = Case("transpose", [T((1, 3, 4, 2), 0.1, 0)], [T((4, 2, 2, 2), 0.1, 0)], {"block": [2, 2], "pads": [0, 1, 0, 0]})
    with pytest.raises(UnsupportedOpError, match="uninitialized"):
        convert_tflite_bytes(rearrange_tflite(c, "SPACE_TO_BATCH_ND"), "s2b")
