"""gather: Python kernel == C kernel byte for byte on random constant indices (any axis, batch_dims,
repeated and multi-dimensional indices), == numpy, == TFLM itself (GATHER, and GATHER_ND through
its reshape)."""
from __future__ import annotations

import numpy as np
import pytest

from common import judge_against_tflm, rand_scale, rand_shape, rand_zp
from harness import Case, T, build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_rank: int = 5) -> Case:
    shape = rand_shape(rng, max_rank, 5)
    rank = len(shape)
    axis = int(rng.integers(0, rank))
    bd = int(rng.integers(0, axis + 1)) if rng.random() < 0.3 else 0
    extra = [int(rng.integers(1, 4)) for _ in range(int(rng.integers(0, 3)))]
    idx = rng.integers(0, shape[axis], size=tuple(shape[:bd]) + tuple(extra))
    out = tuple(shape[:axis]) + tuple(extra) + tuple(shape[axis + 1:])
    s, zp = rand_scale(rng), rand_zp(rng)
    attrs = {"axis": axis - rank if rng.integers(0, 2) else axis, "indices": idx}
    if bd:
        attrs["batch_dims"] = bd
    return Case("gather", [T(shape, s, zp)], [T(out, s, zp)], attrs)


def naive(x: np.ndarray, c: Case) -> np.ndarray:
    """Gather by loops over the sample, batch and outer positions (numpy.take per position)."""
    shape = c.inputs[0].shape
    axis = c.attrs["axis"] % len(shape)
    bd = c.attrs.get("batch_dims", 0)
    idx = c.attrs["indices"]
    out = np.empty((x.shape[0],) + c.outputs[0].shape, np.int8)
    for n in range(x.shape[0]):
        for b in np.ndindex(*shape[:bd]):
            for o in np.ndindex(*shape[bd:axis]):
                out[(n,) + b + o] = np.take(x[(n,) + b + o], idx[b], axis=0)
    return out


def test_gather_random_cases():
    rng = np.random.default_rng(8088)
    cases = [random_case(rng) for _ in range(210)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_gather_python_kernel_matches_naive():
    rng = np.random.default_rng(81)
    for k in range(40):
        c = random_case(rng)
        x = rng.integers(-128, 128, size=(2,) + c.inputs[0].shape).astype(np.int8)
        got = Interpreter(build_model(c, f"n{k}")).invoke(x)[0]
        assert np.array_equal(got, naive(x, c)), f"case {k}"


def test_gather_rejects_out_of_range_indices():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="indices must lie"):
        build_model(Case("gather", [T((4, 3), 0.1, 0)], [T((2, 3), 0.1, 0)],
                         {"axis": 0, "indices": np.asarray([1, 4])}), "bad")


def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    idx = np.asarray(case.attrs["indices"], np.int32)
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point), TfTensor("idx", idx.shape, "int32", data=idx),
               TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    if code == "GATHER_ND":
        return build(tensors, [TfOp("GATHER_ND", [0, 1], [2], "GatherNdOptions")], [0], [2])
    fields = {"Axis": case.attrs["axis"], "BatchDims": case.attrs.get("batch_dims", 0)}
    return build(tensors, [TfOp("GATHER", [0, 1], [2], "GatherOptions", fields)], [0], [2])


def test_gather_matches_tflm():
    rng = np.random.default_rng(82)
    assert judge_against_tflm([random_case(rng) for _ in range(40)], "GATHER", to_tflite) == 40


def test_gather_nd_matches_tflm():
    rng = np.random.default_rng(83)
    cases = []
    for _ in range(30):
        shape = rand_shape(rng, 4, 5)
        k = int(rng.integers(1, len(shape) + 1))
        lead = [int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 3)))]
        idx = np.stack([rng.integers(0, n, size=lead) for n in shape[:k]], axis=-1)
        s, zp = rand_scale(rng), rand_zp(rng)
        cases.append(Case("gather", [T(shape, s, zp)], [T(tuple(lead) + tuple(shape[k:]), s, zp)], {"indices": idx}))
    assert judge_against_tflm(cases, "GATHER_ND", to_tflite) == 30
