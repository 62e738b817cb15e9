"""split: Python kernel == C kernel byte for byte on random cuts (several outputs, unpacked outputs
without the axis), == numpy, == TFLM itself (SPLIT, SPLIT_V, UNPACK); outputs that are contiguous
byte ranges of the input are planned as aliases of it."""
from __future__ import annotations

import numpy as np
import pytest

from common import judge_against_tflm, rand_scale, rand_shape, rand_zp
from harness import Case, T, build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_rank: int = 6, kind: str | None = None) -> Case:
    shape = list(rand_shape(rng, max_rank, 6 if max_rank < 6 else 4))
    axis = int(rng.integers(0, len(shape)))
    kind = kind or str(rng.choice(["sizes", "equal", "unpack"]))
    s, zp = rand_scale(rng), rand_zp(rng)
    if kind == "unpack":
        outs = [tuple(shape[:axis] + shape[axis + 1:])] * shape[axis]
    else:
        if kind == "equal":
            k = int(rng.integers(1, 4))
            shape[axis] = k * int(rng.integers(1, 4))
            sizes = [shape[axis] // k] * k
        else:
            sizes = [int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 5)))]
            shape[axis] = sum(sizes)
        outs = [tuple(e if d == axis else n for d, n in enumerate(shape)) for e in sizes]
    attr_axis = axis - len(shape) if rng.integers(0, 2) else axis
    return Case("split", [T(tuple(shape), s, zp)], [T(o, s, zp) for o in outs], {"axis": attr_axis, "kind": kind})


def test_split_random_cases():
    rng = np.random.default_rng(4242)
    cases = [random_case(rng) for _ in range(210)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_split_python_kernel_matches_numpy():
    rng = np.random.default_rng(43)
    for k in range(40):
        c = random_case(rng)
        model = build_model(c, f"n{k}")
        x = rng.integers(-128, 128, size=(2,) + c.inputs[0].shape).astype(np.int8)
        got = Interpreter(model).invoke(x)
        axis = c.attrs["axis"] % len(c.inputs[0].shape) + 1
        ext = [int(np.prod(o.shape)) * x.shape[axis] // int(np.prod(c.inputs[0].shape)) for o in c.outputs]
        want = np.split(x, np.cumsum(ext)[:-1], axis=axis)
        for g, w in zip(got, want):
            assert np.array_equal(g, w.reshape(g.shape)), f"case {k}"


def test_split_outputs_are_aliases():
    """Cut along H of a (1, H, W, C) tensor: every output is its byte range of the input."""
    c = Case("split", [T((1, 6, 2, 4), 0.1, 3)], [T((1, 2, 2, 4), 0.1, 3), T((1, 4, 2, 4), 0.1, 3)], {"axis": 1})
    m = build_model(c, "alias")
    x = m.tensors[m.ops[0].inputs[0]]
    offs = [m.tensors[t].arena_offset - x.arena_offset for t in m.ops[0].outputs]
    assert offs == [0, 16]
    assert check_cases([c], samples=4)["cases"] == 1


def test_split_rejects_mismatched_outputs():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="add up"):
        build_model(Case("split", [T((4, 6), 0.1, 0)], [T((4, 2), 0.1, 0), T((4, 3), 0.1, 0)], {"axis": 1}), "bad")


def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    x = case.inputs[0]
    axis = case.attrs["axis"]
    kind = case.attrs["kind"]
    n = len(case.outputs)
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point)]
    tensors += [TfTensor(f"y{k}", y.shape, "int8", y.scale, y.zero_point) for k, y in enumerate(case.outputs)]
    outs = list(range(1, n + 1))
    if kind == "unpack":
        op = TfOp("UNPACK", [0], outs, "UnpackOptions", {"Num": n, "Axis": axis})
    elif kind == "equal":
        tensors.append(TfTensor("axis", (), "int32", data=np.asarray(axis, np.int32)))
        op = TfOp("SPLIT", [n + 1, 0], outs, "SplitOptions", {"NumSplits": n})
    else:
        r = len(x.shape)
        sizes = np.asarray([int(np.prod(y.shape)) * x.shape[axis % r] // int(np.prod(x.shape)) for y in case.outputs],
                           np.int32)
        tensors.append(TfTensor("sizes", sizes.shape, "int32", data=sizes))
        tensors.append(TfTensor("axis", (), "int32", data=np.asarray(axis, np.int32)))
        op = TfOp("SPLIT_V", [0, n + 1, n + 2], outs, "SplitVOptions", {"NumSplits": n})
    return build(tensors, [op], [0], outs)


@pytest.mark.parametrize("kind,code", [("equal", "SPLIT"), ("sizes", "SPLIT_V"), ("unpack", "UNPACK")])
def test_split_matches_tflm(kind, code):
    rng = np.random.default_rng(44)
    cases = [random_case(rng, max_rank=5, kind=kind) for _ in range(25)]
    if kind == "sizes":  # TFLM's SplitV takes a non-negative axis
        for c in cases:
            c.attrs["axis"] %= len(c.inputs[0].shape)
    assert judge_against_tflm(cases, code, to_tflite) == 25
