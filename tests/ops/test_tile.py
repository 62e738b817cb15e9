"""tile: Python kernel == C kernel byte for byte on random broadcasts and tilings (rank growth
included), == numpy, == TFLM itself (BROADCAST_TO)."""
from __future__ import annotations

import numpy as np
import pytest

from common import judge_against_tflm, rand_scale, rand_shape, rand_zp
from harness import Case, T, build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_rank: int = 6, broadcast_only: bool = False) -> Case:
    out = rand_shape(rng, max_rank, 5 if max_rank < 6 else 4)
    drop = int(rng.integers(0, len(out)))  # the input may have fewer axes
    shape = []
    full = list(out)
    for d, n in enumerate(out[drop:]):
        k = int(rng.integers(0, 3))
        if k == 0:
            shape.append(1)
        elif k == 1 or broadcast_only:
            shape.append(n)
        else:  # a divisor: tiled
            m = int(rng.choice([v for v in range(1, n + 1) if n % v == 0]))
            shape.append(m)
    s, zp = rand_scale(rng), rand_zp(rng)
    return Case("tile", [T(tuple(shape), s, zp)], [T(tuple(full), s, zp)])


def naive(x: np.ndarray, c: Case) -> np.ndarray:
    out = c.outputs[0].shape
    s = (1,) * (len(out) - len(c.inputs[0].shape)) + c.inputs[0].shape
    reps = tuple(o // i for o, i in zip(out, s))
    return np.tile(x.reshape((x.shape[0],) + s), (1,) + reps)


def test_tile_random_cases():
    rng = np.random.default_rng(9009)
    cases = [random_case(rng) for _ in range(210)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_tile_python_kernel_matches_numpy():
    rng = np.random.default_rng(91)
    for k in range(40):
        c = random_case(rng)
        x = rng.integers(-128, 128, size=(2,) + c.inputs[0].shape).astype(np.int8)
        got = Interpreter(build_model(c, f"n{k}")).invoke(x)[0]
        assert np.array_equal(got, naive(x, c)), f"case {k}"


def test_tile_rejects_non_multiples():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="does not repeat"):
        build_model(Case("tile", [T((2, 3), 0.1, 0)], [T((2, 4), 0.1, 0)]), "bad")


def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    shape = np.asarray(y.shape, np.int32)
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point), TfTensor("shape", shape.shape, "int32", data=shape),
               TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    return build(tensors, [TfOp("BROADCAST_TO", [0, 1], [2], "BroadcastToOptions")], [0], [2])


def test_broadcast_to_matches_tflm():
    rng = np.random.default_rng(92)
    cases = [random_case(rng, max_rank=5, broadcast_only=True) for _ in range(30)]  # TFLM: rank <= 5
    assert judge_against_tflm(cases, "BROADCAST_TO", to_tflite) == 30


def test_tflite_tile_is_refused_naming_tflm():
    """TFLM has no TILE kernel: the importer says so instead of running what TFLM cannot judge."""
    from tflite_builder import TfOp, TfTensor, build
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.errors import UnsupportedOpError

    reps = np.asarray([2, 1], np.int32)
    data = build([TfTensor("x", (2, 3), "int8", 0.1, 0), TfTensor("reps", (2,), "int32", data=reps),
                  TfTensor("y", (4, 3), "int8", 0.1, 0)], [TfOp("TILE", [0, 1], [2], "TileOptions")], [0], [2])
    with pytest.raises(UnsupportedOpError, match="TILE.*TFLM has no int8 kernel"):
        convert_tflite_bytes(data, "tile")


def test_several_unsupported_tflite_operators_are_listed_together():
    """One error names every unsupported operator type with its count and first operator index."""
    from tflite_builder import TfOp, TfTensor, build
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.errors import UnsupportedOpError

    reps = np.asarray([2, 1], np.int32)
    tensors = [TfTensor("x", (2, 3), "int8", 0.1, 0), TfTensor("reps", (2,), "int32", data=reps),
               TfTensor("y", (4, 3), "int8", 0.1, 0), TfTensor("z", (4, 3), "int8", 0.1, 0),
               TfTensor("w", (4, 3), "int8", 0.1, 0)]
    ops = [TfOp("TILE", [0, 1], [2], "TileOptions"), TfOp("HARD_SWISH", [2], [3]), TfOp("RFFT2D", [3, 1], [4]),
           TfOp("RFFT2D", [4, 1], [2])]
    with pytest.raises(UnsupportedOpError) as e:
        convert_tflite_bytes(build(tensors, ops, [0], [2]), "bad")
    msg = str(e.value)
    assert "\n" not in msg and "3 operators of 2 unsupported types" in msg
    assert "TILE x1 (first: operator 0; TFLM has no int8 kernel for TILE" in msg
    assert "RFFT2D x2 (first: operator 2)" in msg
