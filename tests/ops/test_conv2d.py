"""conv2d: Python kernel == C kernel byte for byte; Python kernel == naive TFLM transcription;
edgenn == TFLM itself on built CONV_2D .tflite models."""
import numpy as np
import pytest

from conv_cases import any_left_shift, random_case, run_naive_checks, tflm_cases_check
from harness import check_cases

from edgenn.runtime_py.fixedpoint import requantize_to_int8
from edgenn.runtime_py.kernels.common import requantize_channels


def test_conv2d_random_cases_python_equals_c():
    rng = np.random.default_rng(2024)
    cases = [random_case(rng, depthwise=False) for _ in range(240)]
    # The generator must cover what the brief lists.
    attrs = [c.attrs for c in cases]
    assert {a["stride"][0] for a in attrs} >= {1, 2, 3} and {a["dilation"][1] for a in attrs} >= {1, 2}
    assert any(a["groups"] > 1 for a in attrs)
    assert any(c.inputs[2] is None for c in cases) and any(c.inputs[2] is not None for c in cases)
    assert {c.inputs[0].zero_point for c in cases} >= {-128, 127}
    assert {c.outputs[0].zero_point for c in cases} >= {-128, 127}
    assert any(a["pads"][0] != a["pads"][2] for a in attrs) and any(a["pads"][1] == a["pads"][3] > 0 for a in attrs)
    assert {c.inputs[1].shape[1] for c in cases} >= {1, 2, 3, 4, 5}
    assert any_left_shift(cases), "no case with a real multiplier > 1 (left shift)"
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 240
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_conv2d_python_equals_naive_tflm():
    assert run_naive_checks(depthwise=False, n_cases=30) > 0


def test_requantize_channels_equals_fixedpoint():
    """The kernels' fast requantization == the arithmetic contract, incl. rounding ties and shifts."""
    rng = np.random.default_rng(11)
    for it in range(400):
        c = int(rng.integers(1, 9))
        m = rng.integers(1 << 30, 1 << 31, size=c)
        m[rng.random(c) < 0.15] = 1 << 30  # 0.5: many exact ties
        m[rng.random(c) < 0.05] = (1 << 31) - 1
        m[rng.random(c) < 0.05] = 0
        s = rng.integers(-31, 8, size=c) if it % 2 else rng.integers(-12, 2, size=c)
        acc = rng.integers(-(1 << 31), 1 << 31, size=(c, 300))
        acc[:, :150] = rng.integers(-4096, 4096, size=(c, 150))  # results mostly inside the int8 range
        acc[:, 150] = -(1 << 31)
        acc[:, 151] = (1 << 31) - 1
        if it % 4 == 0:
            off, lo, hi = 0, -128, 127
        else:
            off, lo, hi = int(rng.integers(-128, 128)), int(rng.integers(-128, 0)), int(rng.integers(0, 128))
        ref = requantize_to_int8(acc.T, m, s, off, lo, hi).T
        got = requantize_channels(acc.copy(), m, s, off, lo, hi)
        assert np.array_equal(ref, got), f"iteration {it}"


def test_conv2d_matches_tflm():
    pytest.importorskip("tflite_micro")
    n = tflm_cases_check(depthwise=False, n_cases=30, seed=99)
    assert n > 0


@pytest.mark.parametrize("depthwise", [False, True])
def test_rules_quantize_constants_and_prepare(depthwise):
    from conv_cases import float_graph

    from edgenn.converter.ops import rule as rule_of
    from edgenn.errors import EdgennError
    from edgenn.runtime_py.fixedpoint import activation_range, quantize_multiplier

    rng = np.random.default_rng(3)
    g, op, wf, bf = float_graph(depthwise, rng)
    rule = rule_of(op.type)
    rule.quantize_constants(op, g)
    w, b = g.tensors["w"], g.tensors["b"]
    axis = 3 if depthwise else 0
    co = wf.shape[axis]
    assert w.dtype == "int8" and w.quant.axis == axis and w.quant.scale.shape == (co,)
    assert np.all(w.quant.zero_point == 0) and int(np.abs(w.data.astype(int)).max()) == 127
    red = tuple(i for i in range(4) if i != axis)
    shape = [1] * 4
    shape[axis] = -1
    assert np.allclose(w.data * w.quant.scale.reshape(shape), wf, atol=float(w.quant.scale.max()) / 2 + 1e-7)
    assert np.all(np.abs(w.data).max(axis=red) == np.where(np.abs(wf).max(axis=red) > 0, 127, 0))
    assert b.dtype == "int32" and np.allclose(b.quant.scale, np.float32(0.05) * w.quant.scale.astype(np.float64))
    assert np.allclose(b.data * b.quant.scale.astype(np.float64), bf, atol=float(b.quant.scale.max()))

    rule.prepare(op, g)
    o = op.options
    assert o["input_offset"] == -3 and o["output_offset"] == -7
    assert (o["act_min"], o["act_max"]) == activation_range(0.0, 6.0, g.tensors["y"].quant.s, -7)
    for c in range(co):
        m, s = quantize_multiplier(float(np.float32(0.05)) * float(w.quant.scale[c]) / float(np.float32(0.1)))
        assert (o["out_multiplier"][c], o["out_shift"][c]) == (m, s)
    assert (o["pad_top"], o["pad_left"], o["pad_bottom"], o["pad_right"]) == (1, 1, 1, 1)
    assert o["depth_multiplier" if depthwise else "groups"] == 2
    assert rule.macs(op, g) == 6 * 6 * co * 9 * (1 if depthwise else 2)

    # An output shape that the geometry does not produce is an error, not a silent mismatch.
    g2, op2, _, _ = float_graph(depthwise, rng, pads=(0, 0, 0, 0), out_hw=(6, 6))
    rule.quantize_constants(op2, g2)
    with pytest.raises(EdgennError, match="does not match"):
        rule.prepare(op2, g2)
