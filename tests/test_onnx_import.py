"""ONNX import patterns seen in real exports: each converts, runs bit-exact in C, and stays close to float."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.emulation import backends as be
from edgenn.runtime_py import dataio
from edgenn.validate import validate

from onnx_models import Builder


def _check(tmp_path: Path, model: onnx.ModelProto, inputs: list[tuple[str, tuple[int, ...]]], min_cos: float = 0.99,
           input_shapes=None):
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    rng = np.random.default_rng(0)
    data = [rng.normal(0, 1, (48,) + shape).astype(np.float32) for _, shape in inputs]
    m = convert(p, data, ConvertOptions(progress=False, input_shapes=input_shapes or {}))
    rep = validate(p, m, data, None, ["python", "host"], progress=False)
    assert rep["backends"]["host"]["mismatched_bytes"] == 0
    assert rep["backends"]["python"]["cosine"] >= min_cos, rep["backends"]["python"]["cosine"]
    return m


def test_pytorch_view_flatten_with_dynamic_batch(tmp_path):
    """x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape, batch fixed on the CLI."""
    b = Builder(1)
    h = b.node("Relu", [b.conv("x", 3, 8, 3, stride=2)])
    shape = b.node("Shape", [h])
    n = b.node("Gather", [shape, b.const(np.array(0, np.int64))], axis=0)
    n1 = b.node("Unsqueeze", [n, b.const(np.array([0], np.int64))])
    target = b.node("Concat", [n1, b.const(np.array([-1], np.int64))], axis=0)
    flat = b.node("Reshape", [h, target])
    y = b.node("Gemm", [flat, b.const(b.rng.normal(0, 0.1, (5, 8 * 8 * 8)).astype(np.float32)),
                        b.const(np.zeros(5, np.float32))], transB=1)
    model = b.model([("x", ["N", 3, 16, 16])], [y])
    m = _check(tmp_path, model, [("x", (3, 16, 16))], input_shapes={"x": (1, 3, 16, 16)})
    assert [op.type for op in m.ops] == ["conv2d", "reshape", "fully_connected"]  # transpose folded into weights


def test_keras_style_explicit_pad_then_strided_conv(tmp_path):
    b = Builder(2)
    pads = b.node("Concat", [b.const(np.array([0, 0, 0, 0], np.int64)), b.const(np.array([0, 0, 1, 1], np.int64))],
                  axis=0)
    padded = b.node("Pad", ["x", pads])
    y = b.node("Relu", [b.conv(padded, 3, 8, 3, stride=2, pad=0)])
    model = b.model([("x", [1, 3, 15, 15])], [y], opset=13)
    m = _check(tmp_path, model, [("x", (3, 15, 15))])
    assert "pad" in [op.type for op in m.ops]


def test_input_normalization_sub_div_and_channel_softmax(tmp_path):
    b = Builder(3)
    xn = b.node("Div", [b.node("Sub", ["x", b.const(np.float32(0.5))]), b.const(np.float32(0.25))])
    h = b.conv(xn, 2, 6, 3)
    y = b.node("Softmax", [h], axis=1)  # over channels of an NCHW tensor: last axis inside
    model = b.model([("x", [1, 2, 6, 6])], [y])
    m = _check(tmp_path, model, [("x", (2, 6, 6))], min_cos=0.98)
    assert m.ops[-1].type == "softmax"


def test_two_branch_concat_gets_requantized_inputs(tmp_path):
    b = Builder(4)
    a = b.node("Relu", [b.conv("x", 3, 4, 3)])
    c = b.conv("x", 3, 6, 1, pad=0)  # different range: needs a requantize before the concat
    y = b.node("Concat", [a, c], axis=1)
    model = b.model([("x", [1, 3, 8, 8])], [y])
    m = _check(tmp_path, model, [("x", (3, 8, 8))])
    assert "concat" in [op.type for op in m.ops]


def test_multiple_inputs_and_outputs(tmp_path):
    b = Builder(5)
    h1 = b.node("Relu", [b.conv("img", 1, 4, 3)])
    g = b.node("GlobalAveragePool", [h1])
    f = b.node("Flatten", [g], axis=1)
    side = b.node("Gemm", ["vec", b.const(b.rng.normal(0, 0.3, (4, 6)).astype(np.float32))], transB=1)
    fused = b.node("Add", [f, side])
    y2 = b.node("Sigmoid", [fused])
    model = b.model([("img", [1, 1, 8, 8]), ("vec", [1, 6])], [fused, y2])
    m = _check(tmp_path, model, [("img", (1, 8, 8)), ("vec", (6,))])
    assert len(m.inputs) == 2 and len(m.outputs) == 2


def test_transpose_to_nhwc_then_matmul(tmp_path):
    """A model that transposes to NHWC itself and flattens: transposes cancel against the internal layout."""
    b = Builder(6)
    h = b.node("Relu", [b.conv("x", 2, 4, 3)])
    t = b.node("Transpose", [h], perm=[0, 2, 3, 1])
    flat = b.node("Reshape", [t, b.const(np.array([1, -1], np.int64))])
    y = b.node("MatMul", [flat, b.const(b.rng.normal(0, 0.1, (6 * 6 * 4, 3)).astype(np.float32))])
    model = b.model([("x", [1, 2, 6, 6])], [y])
    m = _check(tmp_path, model, [("x", (2, 6, 6))])
    assert "transpose" not in [op.type for op in m.ops]


@pytest.mark.parametrize("opset", [11, 13, 17, 21])
def test_opsets(tmp_path, opset):
    b = Builder(7)
    h = b.node("Clip", [b.conv("x", 1, 4, 3), b.const(np.float32(0)), b.const(np.float32(6))]) if opset >= 11 else None
    p = b.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    y = b.node("ReduceMean", [p, b.const(np.array([2, 3], np.int64))]) if opset >= 18 else \
        b.node("ReduceMean", [p], axes=[2, 3])
    model = b.model([("x", [1, 1, 8, 8])], [y], opset=opset)
    _check(tmp_path, model, [("x", (1, 8, 8))])


def test_data_in_nchw_comes_back_in_nchw(tmp_path):
    b = Builder(8)
    y = b.conv("x", 2, 3, 3)
    model = b.model([("x", [1, 2, 5, 7])], [y])
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    x = np.random.default_rng(1).normal(size=(4, 2, 5, 7)).astype(np.float32)
    m = convert(p, [x], ConvertOptions(progress=False))
    out = dataio.from_internal(m, be.run(m, dataio.to_internal(m, [x]), "python"), as_float=True)[0]
    assert out.shape == (4, 1, 3, 5, 7)


def test_one_d_convolutions_run_as_two_d_without_data_movement(tmp_path):
    """Conv1d / BatchNorm1d / MaxPool1d / AvgPool1d / GlobalAveragePool on (N, C, L) tensors."""
    b = Builder(9)
    w1 = b.const(b.rng.normal(0, 0.4, (8, 3, 5)).astype(np.float32))
    h = b.node("Conv", ["x", w1], kernel_shape=[5], strides=[2], pads=[2, 2])
    h = b.node("Relu", [b.bn(h, 8)])
    wd = b.const(b.rng.normal(0, 0.4, (8, 1, 3)).astype(np.float32))
    h = b.node("Relu", [b.node("Conv", [h, wd], kernel_shape=[3], pads=[1, 1], group=8)])
    h = b.node("MaxPool", [h], kernel_shape=[2], strides=[2])
    h = b.node("AveragePool", [h], kernel_shape=[3], strides=[1], pads=[1, 1])
    g = b.node("GlobalAveragePool", [h])
    f = b.node("Flatten", [g], axis=1)
    y = b.node("Gemm", [f, b.const(b.rng.normal(0, 0.3, (4, 8)).astype(np.float32))], transB=1)
    model = b.model([("x", [1, 3, 40])], [y])
    m = _check(tmp_path, model, [("x", (3, 40))])
    types = [op.type for op in m.ops]
    assert types.count("conv2d") == 1 and types.count("depthwise_conv2d") == 1
    assert "transpose" not in types and "clip" not in types  # NLC storage; ReLUs fused


def test_operands_that_do_not_broadcast_are_named(tmp_path):
    """A stride-2 conv, a 2x nearest upsampling and a skip connection: at an odd input size (as a
    fixed --input-shape can make it) the Add's operands differ by a row and a column; the refusal
    names their shapes and the likely cause, instead of an uninferable output."""
    from edgenn.errors import UnsupportedOpError

    b = Builder(401)
    down = b.node("Conv", ["x", b.const(b.rng.normal(0, 0.3, (3, 3, 3, 3)).astype(np.float32))],
                  strides=[2, 2], pads=[1, 1, 1, 1])
    up = b.node("Resize", [down, "", b.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    y = b.node("Add", ["x", up])
    p = tmp_path / "skip.onnx"
    io = [onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, [1, 3, 5, 5]) for n in ("x", y)]
    m = onnx.helper.make_model(onnx.helper.make_graph(b.nodes, "skip", io[:1], io[1:], b.inits),
                               opset_imports=[onnx.helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(m, p)
    with pytest.raises(UnsupportedOpError, match=r"operands of shapes \(1, 3, 5, 5\) and \(1, 3, 6, 6\) do not "
                                                  r"broadcast.*divisible by its total stride"):
        convert(p, [np.random.default_rng(0).normal(0, 1, (4, 3, 5, 5)).astype(np.float32)],
                ConvertOptions(progress=False))


def test_a_model_onnxruntime_cannot_run_is_refused_in_one_line(tmp_path):
    """A float64 bias on a float32 Conv passes ONNX's checker and edgenn's import, but onnxruntime
    (the float reference calibration runs) refuses it: one ModelFormatError, not onnxruntime's
    exception (found by tests/fuzz/onnx_mutate.py)."""
    from edgenn.errors import ModelFormatError

    b = Builder(403)
    y = b.node("Conv", ["x", b.const(b.rng.normal(0, 0.3, (2, 3, 3, 3)).astype(np.float32)),
                        b.const(np.zeros(2, np.float64))])
    p = tmp_path / "f64_bias.onnx"
    onnx.save(b.model([("x", [1, 3, 6, 6])], [y]), p)
    with pytest.raises(ModelFormatError, match=r"^onnxruntime cannot run the float model \(edgenn calibrates with "
                                               r"it\): .*[Tt]ype"):
        convert(p, [np.random.default_rng(0).normal(0, 1, (4, 3, 6, 6)).astype(np.float32)],
                ConvertOptions(progress=False))
