"""concat: Python kernel == C kernel byte for byte, == numpy, == TFLM itself; unequal params rejected."""
from __future__ import annotations

import numpy as np
import pytest

from harness import Case, T, build_model, check_cases
from common import judge_against_tflm, rand_scale, rand_zp, rearrange_tflite
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_rank: int = 5, allow_const: bool = True) -> Case:
    rank = int(rng.integers(1, max_rank + 1))
    base = [int(rng.integers(1, 6)) for _ in range(rank)]
    axis = int(rng.integers(0, rank))
    k = int(rng.integers(1, 6))
    s, zp = rand_scale(rng), rand_zp(rng)
    ins = []
    for _ in range(k):
        shape = list(base)
        shape[axis] = int(rng.integers(1, 5))
        ins.append(T(tuple(shape), s, zp))
    if allow_const and k > 1 and rng.integers(0, 3) == 0:  # one constant input (not all)
        t = ins[int(rng.integers(0, k))]
        t.data = rng.integers(-128, 128, size=t.shape).astype(np.int8)
    out = list(base)
    out[axis] = sum(t.shape[axis] for t in ins)
    attr_axis = axis - rank if rng.integers(0, 2) else axis  # negative axes count from the end
    return Case("concat", ins, [T(tuple(out), s, zp)], {"axis": attr_axis})


def test_concat_random_cases():
    rng = np.random.default_rng(777)
    cases = [random_case(rng) for _ in range(210)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_concat_python_kernel_matches_numpy():
    rng = np.random.default_rng(12)
    for k in range(40):
        c = random_case(rng)
        model = build_model(c, f"n{k}")
        xs = [rng.integers(-128, 128, size=(2,) + model.tensors[d.tensor].shape).astype(np.int8) for d in model.inputs]
        got = Interpreter(model).invoke(*xs)[0]
        it = iter(xs)
        parts = [np.broadcast_to(t.data, (2,) + t.shape) if t.data is not None else next(it) for t in c.inputs]
        axis = c.attrs["axis"] % len(c.outputs[0].shape)
        assert np.array_equal(got, np.concatenate(parts, axis=axis + 1)), f"case {k}"


def test_concat_rejects_unequal_quantization():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="requires equal parameters"):
        build_model(Case("concat", [T((2, 3), 0.1, 0), T((2, 3), 0.1, 5)], [T((4, 3), 0.1, 0)], {"axis": 0}), "bad")
    with pytest.raises(EdgennError, match="requires equal parameters"):
        build_model(Case("concat", [T((2, 3), 0.1, 0), T((2, 3), 0.1, 0)], [T((2, 6), 0.2, 0)], {"axis": 1}), "bad")


def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    tensors = [TfTensor(f"in{i}", t.shape, "int8", t.scale, t.zero_point, data=t.data)
               for i, t in enumerate(case.inputs)]
    y = case.outputs[0]
    tensors.append(TfTensor("out", y.shape, "int8", y.scale, y.zero_point))
    n = len(case.inputs)
    op = TfOp("CONCATENATION", list(range(n)), [n], "ConcatenationOptions",
              {"Axis": case.attrs["axis"], "FusedActivationFunction": 0})
    return build(tensors, [op], [i for i, t in enumerate(case.inputs) if t.data is None], [n])


def test_concat_matches_tflm():
    rng = np.random.default_rng(13)
    cases = [random_case(rng, max_rank=5) for _ in range(30)]
    assert judge_against_tflm(cases, "CONCATENATION", to_tflite) == 30


# PACK is imported as a reshape of each input (the new axis) + concat.

def test_pack_matches_tflm():
    rng = np.random.default_rng(105)
    cases = []
    for _ in range(25):
        shape = tuple(int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 4))))
        k = int(rng.integers(1, 4))
        axis = int(rng.integers(0, len(shape) + 1))
        s, zp = rand_scale(rng), rand_zp(rng)
        out = shape[:axis] + (k,) + shape[axis:]
        # TFLM copies bytes: inputs may carry other parameters than the output
        ins = [T(shape, *((rand_scale(rng), rand_zp(rng)) if rng.random() < 0.3 else (s, zp))) for _ in range(k)]
        cases.append(Case("concat", ins, [T(out, s, zp)], {"axis": axis - len(out) if rng.integers(0, 2) else axis}))
    assert judge_against_tflm(cases, "PACK", rearrange_tflite) == 25
