"""ONNX ConvTranspose (2-D and 1-D: strides, pads, output_padding, output_shape, auto_pad) converts to
transpose_conv, stays close to onnxruntime and runs bit-exact in host C; BatchNormalization and
Relu after it fold and fuse as after Conv; unsupported attributes are refused by name."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.errors import UnsupportedOpError
from edgenn.validate import validate

from onnx_models import Builder


def _tconv(b: Builder, x: str, cin: int, cout: int, k, bias: bool = True, **attrs) -> str:
    k = (k, k) if isinstance(k, int) else tuple(k)
    w = b.rng.normal(0, 1.0 / np.sqrt(cin * k[0] * k[1]), (cin, cout) + k).astype(np.float32)
    ins = [x, b.const(w, "w")] + ([b.const(b.rng.normal(0, 0.1, cout).astype(np.float32), "b")] if bias else [])
    return b.node("ConvTranspose", ins, kernel_shape=list(k), **attrs)


def _check(tmp_path: Path, model: onnx.ModelProto, shape, backends=("python", "host"), min_cos=0.995):
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    rng = np.random.default_rng(0)
    data = [rng.normal(0, 1, (32,) + tuple(shape)).astype(np.float32)]
    m = convert(p, data, ConvertOptions(progress=False))
    rep = validate(p, m, data, None, list(backends), progress=False)
    for be in backends[1:]:
        assert rep["backends"][be]["mismatched_bytes"] == 0
    assert rep["backends"]["python"]["cosine"] > min_cos, rep["backends"]["python"]["cosine"]
    return m, rep


@pytest.mark.parametrize("attrs", [
    {"strides": [2, 2]},
    {"strides": [2, 2], "pads": [1, 1, 1, 1]},
    {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
    {"strides": [3, 2], "pads": [0, 1, 2, 0], "output_padding": [2, 1]},
    {"strides": [1, 1], "pads": [1, 1, 1, 1]},
    {"strides": [2, 2], "auto_pad": "SAME_UPPER"},
    {"strides": [2, 2], "auto_pad": "SAME_LOWER"},
    {"strides": [2, 3], "auto_pad": "VALID"},
    {"strides": [2, 2], "output_shape": [13, 12]},
    {"strides": [2, 2], "output_shape": [12, 11], "auto_pad": "SAME_UPPER"},
    {"strides": [2, 2], "output_shape": [12, 11], "auto_pad": "SAME_LOWER"},
])
@pytest.mark.parametrize("k", [3, 4, (2, 5)])
def test_conv_transpose_2d(tmp_path, attrs, k):
    b = Builder(3)
    y = _tconv(b, b.conv("x", 3, 6, 3), 6, 5, k, **attrs)
    m, _ = _check(tmp_path, b.model([("x", [1, 3, 6, 6])], [y], opset=13), (3, 6, 6), backends=("python", "host"))
    assert [o.type for o in m.ops] == ["conv2d", "transpose_conv"]


def test_conv_transpose_1d_without_bias(tmp_path):
    b = Builder(4)
    x = b.node("Conv", ["x", b.const(b.rng.normal(0, 0.3, (4, 2, 3)).astype(np.float32))], kernel_shape=[3], pads=[1, 1])
    y = _tconv(b, x, 4, 3, (1, 4), bias=False, strides=[1, 2], pads=[0, 1, 0, 1])
    # the 1-D node: rewrite kernel and strides to 1-D attributes
    node = b.nodes[-1]
    w_name = node.input[1]
    init = next(i for i in b.inits if i.name == w_name)
    w = onnx.numpy_helper.to_array(init).reshape(4, 3, 4)
    init.CopyFrom(onnx.numpy_helper.from_array(w, w_name))
    del node.attribute[:]
    node.attribute.extend([onnx.helper.make_attribute("kernel_shape", [4]), onnx.helper.make_attribute("strides", [2]),
                           onnx.helper.make_attribute("pads", [1, 1]), onnx.helper.make_attribute("output_padding", [1])])
    m, _ = _check(tmp_path, b.model([("x", [1, 2, 10])], [y], opset=13), (2, 10))
    assert "transpose_conv" in [o.type for o in m.ops]


def test_batchnorm_and_relu_fold_and_fuse(tmp_path):
    """ConvTranspose -> BatchNormalization -> Relu is one transpose_conv with a fused ReLU."""
    b = Builder(5)
    y = b.node("Relu", [b.bn(_tconv(b, b.conv("x", 3, 8, 3), 8, 6, 4, strides=[2, 2], pads=[1, 1, 1, 1]), 6)])
    m, _ = _check(tmp_path, b.model([("x", [1, 3, 8, 8])], [y], opset=13), (3, 8, 8))
    assert [o.type for o in m.ops] == ["conv2d", "transpose_conv"]
    t = m.tensors[m.ops[1].outputs[0]]
    assert m.ops[1].options["act_min"] == int(t.zero_point[0])  # the ReLU clamps at real 0


@pytest.mark.parametrize("attrs, message", [
    ({"strides": [2, 2], "group": 2}, "group=2"),
    ({"strides": [2, 2], "dilations": [2, 2]}, "dilations"),
])
def test_unsupported_attributes_are_refused(tmp_path, attrs, message):
    b = Builder(6)
    cin = 4
    w = b.rng.normal(0, 0.3, (cin, 2, 3, 3)).astype(np.float32)
    y = b.node("ConvTranspose", ["x", b.const(w, "w")], kernel_shape=[3, 3], **attrs)
    p = tmp_path / "bad.onnx"
    onnx.save(b.model([("x", [1, cin, 5, 5])], [y], opset=13), p)
    with pytest.raises(UnsupportedOpError, match=message) as e:
        convert(p, [np.zeros((2, cin, 5, 5), np.float32)], ConvertOptions(progress=False))
    assert "ConvTranspose" in str(e.value) and "\n" not in str(e.value)
