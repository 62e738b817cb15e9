"""gather: Python kernel == C kernel byte for byte on random constant indices (any axis, batch_dims,
repeated and multi-dimensional indices), == numpy, == TFLM itself (GATHER, and GATHER_ND through
its reshape)."""
from __future__ import annotations

import numpy as np
import pytest

from common import assert_host_c_equals, judge_against_tflm, rand_scale, rand_shape, rand_zp
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


def runtime_case(rng) -> Case:
    """Indices as an int32 input read at run time (an embedding lookup): the harness's int32 values
    (-1000..1000) land inside the axis, count from its end, or are clamped; the table is a constant
    or an activation."""
    rows = int(rng.integers(100, 700))
    lead = [int(rng.integers(1, 3)) for _ in range(int(rng.integers(0, 2)))]
    shape = tuple(lead) + (rows, int(rng.integers(1, 4)))
    axis = len(lead)
    idx_shape = tuple(int(rng.integers(1, 5)) for _ in range(int(rng.integers(1, 3))))
    s, zp = rand_scale(rng), rand_zp(rng)
    table = T(shape, s, zp)
    if rng.random() < 0.5:
        table.data = rng.integers(-128, 128, size=shape).astype(np.int8)
    out = tuple(lead) + idx_shape + shape[axis + 1:]
    return Case("gather", [table, T(idx_shape, dtype="int32")], [T(out, s, zp)], {"axis": axis})


def test_gather_runtime_indices_random_cases():
    rng = np.random.default_rng(8090)
    stats = check_cases([runtime_case(rng) for _ in range(200)], samples=3)
    assert stats["cases"] == 200


def test_gather_runtime_indices_match_numpy():
    """Per sample: numpy.take of the clamped indices (negative ones first counted from the end)."""
    rng = np.random.default_rng(8091)
    for k in range(30):
        c = runtime_case(rng)
        table, it = c.inputs
        m = build_model(c, f"r{k}")
        idx = rng.integers(-1000, 1001, size=(2,) + it.shape).astype(np.int32)
        rows = table.shape[c.attrs["axis"]]
        if table.data is None:
            x = rng.integers(-128, 128, size=(2,) + table.shape).astype(np.int8)
            got = Interpreter(m).invoke(x, idx)[0]
        else:
            x = np.broadcast_to(table.data, (2,) + table.shape)
            got = Interpreter(m).invoke(idx)[0]
        clamped = np.clip(np.where(idx < 0, idx + rows, idx), 0, rows - 1)
        for n in range(2):
            assert np.array_equal(got[n], np.take(x[n], clamped[n], axis=c.attrs["axis"])), f"case {k}"


def test_gather_runtime_positions_match_tflm():
    """TFLite GATHER with int32 positions computed at run time (an input): TFLM == Python == host C,
    positions inside the axis (TFLM stops with an error outside it)."""
    from tflite_builder import TfOp, TfTensor, build, run_tflm
    from edgenn.converter.tflite_import import convert_tflite_bytes

    rng = np.random.default_rng(8092)
    models, inputs, wants = [], [], []
    for k in range(24):
        shape = rand_shape(rng, 4, 6)
        axis = int(rng.integers(0, len(shape)))
        idx_shape = tuple(int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 3))))
        out = tuple(shape[:axis]) + idx_shape + tuple(shape[axis + 1:])
        s, zp = rand_scale(rng), rand_zp(rng)
        data = build([TfTensor("x", shape, "int8", s, zp), TfTensor("pos", idx_shape, "int32"),
                      TfTensor("y", out, "int8", s, zp)],
                     [TfOp("GATHER", [0, 1], [2], "GatherOptions", {"Axis": axis, "BatchDims": 0})], [0, 1], [2])
        xs = [rng.integers(-128, 128, size=(3,) + shape).astype(np.int8),
              rng.integers(0, shape[axis], size=(3,) + idx_shape).astype(np.int32)]
        m = convert_tflite_bytes(data, f"g{k}")
        want = run_tflm(data, xs)
        assert np.array_equal(Interpreter(m).invoke(*xs)[0], want[0].reshape((3,) + out)), f"case {k}"
        models.append(m)
        inputs.append(xs)
        wants.append(want)
    assert_host_c_equals(models, inputs, wants, "TFLM")


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
