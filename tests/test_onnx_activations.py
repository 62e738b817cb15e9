"""ONNX Tanh, LeakyRelu and HardSwish after convolutions: each converts to its int8 operator, runs
bit-exact in host C (== the Python reference byte for byte) and stays close to onnxruntime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py import memory
from edgenn.validate import validate

from onnx_models import Builder


def _check(tmp_path: Path, model: onnx.ModelProto, shape: tuple[int, ...], min_cos: float = 0.99):
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    rng = np.random.default_rng(0)
    data = [rng.normal(0, 1, (48,) + shape).astype(np.float32)]
    m = convert(p, data, ConvertOptions(progress=False))
    rep = validate(p, m, data, None, ["python", "host"], progress=False)
    assert rep["backends"]["host"]["mismatched_bytes"] == 0
    assert rep["backends"]["python"]["cosine"] > min_cos, rep["backends"]["python"]["cosine"]
    return m, rep


@pytest.mark.parametrize("act, attrs, op", [
    ("Tanh", {}, "tanh"),
    ("LeakyRelu", {}, "leaky_relu"),  # default alpha 0.01
    ("LeakyRelu", {"alpha": 0.2}, "leaky_relu"),
    ("LeakyRelu", {"alpha": -0.5}, "leaky_relu"),
    ("HardSwish", {}, "hard_swish"),
])
def test_activation_after_conv(tmp_path, act, attrs, op):
    b = Builder(11)
    y = b.node(act, [b.conv("x", 3, 8, 3)], **attrs)
    model = b.model([("x", [1, 3, 10, 10])], [y], opset=14)
    m, _ = _check(tmp_path, model, (3, 10, 10))
    assert [o.type for o in m.ops] == ["conv2d", op]
    if act == "LeakyRelu":
        o = m.ops[1].options
        assert (o["output_multiplier_alpha"] < 0) == (attrs.get("alpha", 0.01) < 0)
    if act == "Tanh":
        t = m.tensors[m.ops[1].outputs[0]]
        assert (float(t.scale[0]), int(t.zero_point[0])) == (1.0 / 128.0, 0)


def test_chained_activations_in_a_small_cnn(tmp_path):
    """Conv -> HardSwish -> depthwise Conv -> LeakyRelu -> Conv -> Tanh, activations in place."""
    b = Builder(12)
    h = b.node("HardSwish", [b.conv("x", 3, 8, 3, stride=2)])
    h = b.node("LeakyRelu", [b.conv(h, 8, 8, 3, group=8)], alpha=0.1)
    y = b.node("Tanh", [b.conv(h, 8, 4, 1, pad=0)])
    model = b.model([("x", [1, 3, 16, 16])], [y], opset=14)
    m, _ = _check(tmp_path, model, (3, 16, 16))
    assert [o.type for o in m.ops] == ["conv2d", "hard_swish", "depthwise_conv2d", "leaky_relu", "conv2d", "tanh"]
    # Elementwise for the memory planner: each may write its output over its dying input.
    acts = {"hard_swish", "leaky_relu", "tanh"}
    assert all(memory.min_delta(a, {}, (1, 8, 8, 8), (1, 8, 8, 8)) == 0 for a in acts)
    assert any(m.tensors[op.inputs[0]].arena_offset == m.tensors[op.outputs[0]].arena_offset
               for op in m.ops if op.type in acts)


def test_unsupported_activation_is_refused_clearly(tmp_path):
    """An activation edgenn has no int8 operator for (Softplus): a clear one-line error naming it.
    (HardSigmoid, once refused here, is a lookup table now: tests/test_onnx_elementwise.py.)"""
    b = Builder(13)
    y = b.node("Softplus", [b.conv("x", 3, 4, 3)])
    p = tmp_path / "sp.onnx"
    onnx.save(b.model([("x", [1, 3, 6, 6])], [y], opset=14), p)
    with pytest.raises(UnsupportedOpError, match="Softplus is not supported"):
        convert(p, [np.zeros((2, 3, 6, 6), np.float32)], ConvertOptions(progress=False))


def test_hard_swish_before_opset_14_is_refused(tmp_path):
    """HardSwish exists from opset 14: an older model using it is invalid (a one-line error)."""
    b = Builder(14)
    y = b.node("HardSwish", [b.conv("x", 3, 4, 3)])
    g = onnx.helper.make_graph(b.nodes, "t", [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                                                 [1, 3, 6, 6])],
                               [onnx.helper.make_tensor_value_info(y, onnx.TensorProto.FLOAT, None)], b.inits)
    model = onnx.helper.make_model(g, opset_imports=[onnx.helper.make_opsetid("", 13)])
    model.ir_version = 8
    p = tmp_path / "old.onnx"
    onnx.save(model, p)
    with pytest.raises(EdgennError) as e:
        convert(p, [np.zeros((2, 3, 6, 6), np.float32)], ConvertOptions(progress=False))
    assert "\n" not in str(e.value).strip()
