"""slice: Python kernel == C kernel byte for byte on random strided slices (negative and clamped
indices, negative strides, masks, shrunk axes), == numpy slicing, == TFLM itself (SLICE and
STRIDED_SLICE); contiguous slices are planned as aliases of their input's bytes."""
from __future__ import annotations

import numpy as np
import pytest

from common import judge_against_tflm, judge_unary, rand_scale, rand_shape, rand_zp
from harness import Case, T, build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def python_slices(c: Case) -> tuple:
    """The numpy index of the case (Python slicing has TFLite's clamping rules)."""
    a = c.attrs
    res = []
    for d, n in enumerate(c.inputs[0].shape):
        b, e, s = a["begin"][d], a["end"][d], a["strides"][d]
        if a.get("shrink_mask", 0) >> d & 1:
            res.append(0 if a.get("begin_mask", 0) >> d & 1 else b + n if b < 0 else b)
            continue
        res.append(slice(None if a.get("begin_mask", 0) >> d & 1 else b,
                         None if a.get("end_mask", 0) >> d & 1 else e, s))
    return tuple(res)


def random_case(rng, max_rank: int = 6, masks: bool = True) -> Case:
    while True:
        shape = rand_shape(rng, max_rank, 6 if max_rank < 6 else 4)
        begin, end, strides = [], [], []
        bm = em = sm = 0
        for d, n in enumerate(shape):
            kind = rng.integers(0, 4)
            if kind == 0:  # whole axis
                b, e, s = 0, n, 1
            else:
                s = int(rng.choice([1, 1, 2, 3, -1, -2]))
                b = int(rng.integers(-n - 2, n + 2))
                e = int(rng.integers(-n - 2, n + 3))
            if masks and rng.random() < 0.15:
                bm |= 1 << d
            if masks and rng.random() < 0.15:
                em |= 1 << d
            if masks and rng.random() < 0.1 and n > 0:
                sm |= 1 << d
                b, s = int(rng.integers(-n, n)), 1
            begin.append(b)
            end.append(e)
            strides.append(s)
        attrs = {"begin": begin, "end": end, "strides": strides}
        if bm or em or sm:
            attrs.update(begin_mask=bm, end_mask=em, shrink_mask=sm)
        c = Case("slice", [T(shape)], [T(())], attrs)
        out = np.empty(shape)[python_slices(c)].shape
        if 0 in out or (sm and len(out) == 0):
            continue
        s, zp = rand_scale(rng), rand_zp(rng)
        return Case("slice", [T(shape, s, zp)], [T(out, s, zp)], attrs)


def test_slice_random_cases():
    rng = np.random.default_rng(5150)
    cases = [random_case(rng) for _ in range(220)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_slice_python_kernel_matches_numpy():
    rng = np.random.default_rng(51)
    for k in range(60):
        c = random_case(rng)
        model = build_model(c, f"n{k}")
        x = rng.integers(-128, 128, size=(2,) + c.inputs[0].shape).astype(np.int8)
        got = Interpreter(model).invoke(x)[0]
        assert np.array_equal(got, x[(slice(None),) + python_slices(c)]), f"case {k}: {c.attrs}"


def test_contiguous_slice_is_an_alias():
    """A slice of whole rows (H of a (1, H, W, C) tensor) is a byte range of its input: planned on
    it (no copy), Python and C still give the sliced bytes."""
    c = Case("slice", [T((1, 6, 4, 8), 0.1, 3)], [T((1, 2, 4, 8), 0.1, 3)],
             {"begin": [0, 3, 0, 0], "end": [1, 5, 4, 8], "strides": [1, 1, 1, 1]})
    m = build_model(c, "alias")
    x, y = m.tensors[m.ops[0].inputs[0]], m.tensors[m.ops[0].outputs[0]]
    assert y.arena_offset - x.arena_offset == 3 * 4 * 8
    assert check_cases([c], samples=4)["cases"] == 1


def test_slice_rejects_empty_slices():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="empty"):
        build_model(Case("slice", [T((4, 4), 0.1, 0)], [T((0, 4), 0.1, 0)],
                         {"begin": [3, 0], "end": [1, 4], "strides": [1, 1]}), "bad")


def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    a = case.attrs
    if code == "SLICE":
        begin = np.asarray(a["begin"], np.int32)
        size = np.asarray(a["size"], np.int32)
        tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point),
                   TfTensor("begin", begin.shape, "int32", data=begin), TfTensor("size", size.shape, "int32", data=size),
                   TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
        return build(tensors, [TfOp("SLICE", [0, 1, 2], [3], "SliceOptions")], [0], [3])
    vecs = [np.asarray(a[k], np.int32) for k in ("begin", "end", "strides")]
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point)]
    tensors += [TfTensor(k, v.shape, "int32", data=v) for k, v in zip(("begin", "end", "strides"), vecs)]
    tensors.append(TfTensor("y", y.shape, "int8", y.scale, y.zero_point))
    fields = {"BeginMask": a.get("begin_mask", 0), "EndMask": a.get("end_mask", 0),
              "ShrinkAxisMask": a.get("shrink_mask", 0)}
    return build(tensors, [TfOp("STRIDED_SLICE", [0, 1, 2, 3], [4], "StridedSliceOptions", fields)], [0], [4])


def test_strided_slice_matches_tflm():
    rng = np.random.default_rng(52)
    cases = [random_case(rng, max_rank=4) for _ in range(40)]  # TFLM's STRIDED_SLICE: rank <= 4
    assert judge_against_tflm(cases, "STRIDED_SLICE", to_tflite) == 40


def test_slice_matches_tflm():
    rng = np.random.default_rng(53)
    cases = []
    for _ in range(30):
        shape = rand_shape(rng, 5, 6)
        begin = [int(rng.integers(0, n)) for n in shape]
        size = [int(rng.integers(1, n - b + 1)) if rng.random() < 0.8 else -1 for b, n in zip(begin, shape)]
        out = tuple(n - b if s == -1 else s for b, s, n in zip(begin, size, shape))
        s, zp = rand_scale(rng), rand_zp(rng)
        cases.append(Case("slice", [T(shape, s, zp)], [T(out, s, zp)], {"begin": begin, "size": size}))
    assert judge_against_tflm(cases, "SLICE", to_tflite) == 30


def test_reverse_v2_matches_tflm():
    """TFLite REVERSE_V2 imports as a slice with stride -1 along its (contiguous) axes."""
    from tflite_builder import TfOp, TfTensor, build

    rng = np.random.default_rng(6301)
    datas = []
    for _ in range(30):
        shape = rand_shape(rng, 5)
        first = int(rng.integers(0, len(shape)))
        axes = np.arange(first, int(rng.integers(first + 1, len(shape) + 1)), dtype=np.int32)
        if rng.random() < 0.3:
            axes = axes - len(shape)  # negative axes
        s, z = rand_scale(rng), rand_zp(rng)
        datas.append(build([TfTensor("x", shape, "int8", s, z), TfTensor("axes", axes.shape, "int32", data=axes),
                            TfTensor("y", shape, "int8", s, z)], [TfOp("REVERSE_V2", [0, 1], [2])], [0], [2]))
    assert judge_unary(datas) == 30


def test_reverse_v2_of_separate_axes_is_refused_naming_tflm():
    from tflite_builder import TfOp, TfTensor, build
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.errors import UnsupportedOpError

    axes = np.asarray([0, 2], np.int32)
    data = build([TfTensor("x", (2, 3, 4), "int8", 0.1, 0), TfTensor("axes", (2,), "int32", data=axes),
                  TfTensor("y", (2, 3, 4), "int8", 0.1, 0)], [TfOp("REVERSE_V2", [0, 1], [2])], [0], [2])
    with pytest.raises(UnsupportedOpError, match="not contiguous"):
        convert_tflite_bytes(data, "t")
