"""mirror_pad: Python kernel == C kernel byte for byte on random reflect / symmetric / edge paddings,
== numpy.pad, == TFLM itself (MIRROR_PAD REFLECT and SYMMETRIC)."""
from __future__ import annotations

import numpy as np
import pytest

from common import judge_against_tflm, rand_scale, rand_shape, rand_zp
from harness import Case, T, build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter

NUMPY_MODE = {"reflect": "reflect", "symmetric": "symmetric", "edge": "edge"}


def random_case(rng, max_rank: int = 6, modes=("reflect", "symmetric", "edge")) -> Case:
    while True:
        shape = rand_shape(rng, max_rank, 5 if max_rank < 6 else 4)
        mode = str(rng.choice(modes))
        limit = {"reflect": -1, "symmetric": 0, "edge": 3}[mode]
        pads = [(int(rng.integers(0, max(n + limit, 0) + 1)), int(rng.integers(0, max(n + limit, 0) + 1)))
                if rng.random() < 0.7 else (0, 0) for n in (min(n, 4) if mode == "edge" else n for n in shape)]
        if any(p != (0, 0) for p in pads):
            break
    s, zp = rand_scale(rng), rand_zp(rng)
    out = tuple(n + a + b for n, (a, b) in zip(shape, pads))
    return Case("mirror_pad", [T(shape, s, zp)], [T(out, s, zp)], {"pads": pads, "mode": mode})


def test_mirror_pad_random_cases():
    rng = np.random.default_rng(6006)
    cases = [random_case(rng) for _ in range(210)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_mirror_pad_python_kernel_matches_numpy():
    rng = np.random.default_rng(61)
    for k in range(60):
        c = random_case(rng)
        x = rng.integers(-128, 128, size=(2,) + c.inputs[0].shape).astype(np.int8)
        got = Interpreter(build_model(c, f"n{k}")).invoke(x)[0]
        want = np.pad(x, [(0, 0)] + c.attrs["pads"], mode=NUMPY_MODE[c.attrs["mode"]])
        assert np.array_equal(got, want), f"case {k}: {c.attrs}"


def test_mirror_pad_rejects_pads_beyond_the_input():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="do not fit"):
        build_model(Case("mirror_pad", [T((3, 4), 0.1, 0)], [T((6, 4), 0.1, 0)],
                         {"pads": [(3, 0), (0, 0)], "mode": "reflect"}), "bad")


def to_tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    pads = np.asarray(case.attrs["pads"], np.int32).reshape(-1, 2)
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point), TfTensor("pads", pads.shape, "int32", data=pads),
               TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    mode = 0 if case.attrs["mode"] == "reflect" else 1
    return build(tensors, [TfOp("MIRROR_PAD", [0, 1], [2], "MirrorPadOptions", {"Mode": mode})], [0], [2])


def test_mirror_pad_matches_tflm():
    rng = np.random.default_rng(62)
    cases = [random_case(rng, max_rank=5, modes=("reflect", "symmetric")) for _ in range(40)]
    assert judge_against_tflm(cases, "MIRROR_PAD", to_tflite) == 40
