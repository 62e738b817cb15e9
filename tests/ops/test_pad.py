"""pad: Python kernel == C kernel byte for byte, == numpy, == TFLM itself (PAD and PADV2)."""
from __future__ import annotations

import numpy as np
import pytest

from harness import Case, T, build_model, check_cases
from common import judge_against_tflm, rand_scale, rand_shape, rand_zp
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_rank: int = 5) -> Case:
    shape = rand_shape(rng, max_rank, 5)
    pads = [(int(rng.integers(0, 4)), int(rng.integers(0, 4))) if rng.random() < 0.7 else (0, 0) for _ in shape]
    s, zp = rand_scale(rng), rand_zp(rng)
    kind = int(rng.integers(0, 4))
    # real 0 (-> zero point), a representable value, or far outside the range (clamped to -128 / 127)
    value = [0.0, 0.0, float(rng.integers(-128, 128) - zp) * s, float(rng.choice([-1, 1])) * 300 * s][kind]
    out = tuple(d + a + b for d, (a, b) in zip(shape, pads))
    attrs = {"pads": pads} if kind == 0 else {"pads": pads, "value": value}
    return Case("pad", [T(shape, s, zp)], [T(out, s, zp)], attrs)


def test_pad_random_cases():
    rng = np.random.default_rng(31337)
    cases = [random_case(rng) for _ in range(210)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 210
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_pad_python_kernel_matches_numpy():
    rng = np.random.default_rng(14)
    for k in range(40):
        c = random_case(rng)
        t = c.inputs[0]
        model = build_model(c, f"n{k}")
        x = rng.integers(-128, 128, size=(2,) + t.shape).astype(np.int8)
        got = Interpreter(model).invoke(x)[0]
        v = c.attrs.get("value", 0.0)
        q = int(np.clip(t.zero_point + np.sign(v / t.scale) * np.floor(abs(v / t.scale) + 0.5), -128, 127))
        want = np.pad(x, [(0, 0)] + list(c.attrs["pads"]), constant_values=q)
        assert np.array_equal(got, want), f"case {k}"


def test_pad_rejects_negative_pads():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="negative"):
        build_model(Case("pad", [T((4, 4), 0.1, 0)], [T((3, 4), 0.1, 0)], {"pads": [(-1, 0), (0, 0)]}), "bad")


def to_tflite(case: Case, code: str) -> bytes:
    """PAD (pad with the output zero point) or, when the case has a value, PADV2 with a constant."""
    from tflite_builder import TfOp, TfTensor, build

    x, y = case.inputs[0], case.outputs[0]
    paddings = np.asarray(case.attrs["pads"], np.int32).reshape(-1, 2)
    tensors = [TfTensor("x", x.shape, "int8", x.scale, x.zero_point),
               TfTensor("paddings", paddings.shape, "int32", data=paddings),
               TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    if "value" not in case.attrs:
        return build(tensors, [TfOp("PAD", [0, 1], [2], "PadOptions")], [0], [2])
    v = case.attrs["value"] / y.scale
    q = int(np.clip(y.zero_point + np.sign(v) * np.floor(abs(v) + 0.5), -128, 127))
    tensors.append(TfTensor("value", (1,), "int8", y.scale, y.zero_point, data=np.asarray([q], np.int8)))
    return build(tensors, [TfOp("PADV2", [0, 1, 3], [2], "PadV2Options")], [0], [2])


def test_pad_matches_tflm():
    rng = np.random.default_rng(15)
    assert judge_against_tflm([random_case(rng) for _ in range(30)], "PAD", to_tflite) == 30
