"""A ShuffleNetV2-style network (channel split, branch, concat, channel shuffle as PyTorch exports
it) end to end: converted from ONNX, the Python reference, the host C and the C on an emulated
Cortex-M4 give the same bytes, and the int8 model follows onnxruntime's float model."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.validate import validate

from onnx_models import Builder


def shufflenet_unit(b: Builder, x: str, c: int, h: int, w: int) -> str:
    """ShuffleNetV2 basic unit: split channels in two halves, transform the second (1x1, 3x3 depthwise,
    1x1), concat, shuffle the channels (view(N, 2, C/2, H, W), transpose(1, 2), view(N, C, H, W))."""
    half = c // 2
    x1, x2 = b.node("Split", [x, b.const(np.asarray([half, half], np.int64))], n_out=2, axis=1)
    t = b.node("Relu", [b.bn(b.conv(x2, half, half, 1, bias=False), half)])
    t = b.bn(b.conv(t, half, half, 3, group=half, bias=False), half)
    t = b.node("Relu", [b.bn(b.conv(t, half, half, 1, bias=False), half)])
    cat = b.node("Concat", [x1, t], axis=1)
    r5 = b.node("Reshape", [cat, b.const(np.asarray([1, 2, half, h, w], np.int64))])
    t5 = b.node("Transpose", [r5], perm=[0, 2, 1, 3, 4])
    return b.node("Reshape", [t5, b.const(np.asarray([1, c, h, w], np.int64))])


def shufflenet_model(seed: int = 0) -> onnx.ModelProto:
    b = Builder(seed)
    h = b.node("Relu", [b.bn(b.conv("input", 3, 16, 3, stride=2, bias=False), 16)])  # (1, 16, 8, 8)
    h = shufflenet_unit(b, h, 16, 8, 8)
    h = shufflenet_unit(b, h, 16, 8, 8)
    g = b.node("GlobalAveragePool", [h])
    f = b.node("Flatten", [g], axis=1)
    y = b.node("Gemm", [f, b.const(b.rng.normal(0, 0.3, (10, 16)).astype(np.float32)),
                        b.const(np.zeros(10, np.float32))], transB=1)
    return b.model([("input", [1, 3, 16, 16])], [y])


@pytest.mark.qemu
def test_shufflenet_block_python_host_qemu_byte_identical(tmp_path):
    model = shufflenet_model()
    p = tmp_path / "shufflenet.onnx"
    onnx.save(model, p)
    data = [np.random.default_rng(1).normal(0, 1, (24, 1, 3, 16, 16)).astype(np.float32)]
    m = convert(p, data, ConvertOptions(progress=False))
    types = [op.type for op in m.ops]
    assert types.count("split") == 2 and types.count("concat") == 2
    # each channel shuffle is one 5-D transpose in NHWC: no transposes to NCHW and back
    shuffles = [op for op in m.ops if op.type == "transpose"]
    assert len(shuffles) == 2 and all(len(m.tensors[op.inputs[0]].shape) == 5 for op in shuffles)
    rep = validate(p, m, data, None, ["python", "host", "qemu"], board="mps2-an386", progress=False)
    for name in ("host", "qemu"):
        assert rep["backends"][name]["mismatched_bytes"] == 0, name
    assert rep["backends"]["python"]["cosine"] > 0.99, rep["backends"]["python"]["cosine"]
    assert rep["backends"]["python"]["top1_agreement"] >= 0.9


def test_shufflenet_layers_include_every_split_output(tmp_path):
    """validate --layers: both outputs of every split are compared with onnxruntime and the host C's
    layer dump equals the Python reference's at every layer."""
    from edgenn.layers import compare_layers

    model = shufflenet_model()
    p = tmp_path / "shufflenet.onnx"
    onnx.save(model, p)
    data = [np.random.default_rng(2).normal(0, 1, (8, 1, 3, 16, 16)).astype(np.float32)]
    m = convert(p, data, ConvertOptions(progress=False))
    rep = compare_layers(p, m, data, ["host"])
    rows = [r for r in rep["layers"] if r["op"] == "split"]
    assert len(rows) == 4 and all(r["compared"] and r["cosine"] > 0.99 for r in rows)
    assert rep["first_backend_mismatch"] == {"host": None}
    assert all(r["host_mismatched_bytes"] == 0 for r in rep["layers"])


def test_tflite_split_layers_match_tflm(tmp_path):
    """A .tflite SPLIT feeding two different operators: every layer output, both split outputs
    included, equals TFLM's byte for byte, and the host C's layer dump equals the Python reference's."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tflite_builder import TfOp, TfTensor, build
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.layers import compare_layers

    axis = np.asarray(3, np.int32)
    tensors = [TfTensor("x", (1, 4, 4, 6), "int8", 0.05, -3), TfTensor("axis", (), "int32", data=axis),
               TfTensor("a", (1, 4, 4, 3), "int8", 0.05, -3), TfTensor("b", (1, 4, 4, 3), "int8", 0.05, -3),
               TfTensor("ra", (1, 4, 4, 3), "int8", 0.05, -3), TfTensor("pb", (1, 2, 2, 3), "int8", 0.05, -3)]
    ops = [TfOp("SPLIT", [1, 0], [2, 3], "SplitOptions", {"NumSplits": 2}), TfOp("RELU", [2], [4]),
           TfOp("MAX_POOL_2D", [3], [5], "Pool2DOptions", {"Padding": 1, "StrideW": 2, "StrideH": 2, "FilterWidth": 2,
                                                            "FilterHeight": 2, "FusedActivationFunction": 0})]
    data = build(tensors, ops, [0], [4, 5])
    p = tmp_path / "split.tflite"
    p.write_bytes(data)
    m = convert_tflite_bytes(data, "split", str(p))
    x = [np.random.default_rng(3).uniform(-6, 6, (6, 1, 4, 4, 6)).astype(np.float32)]
    rep = compare_layers(p, m, x, ["host"])
    assert [r["tensor"] for r in rep["layers"] if r["op"] == "split"] == ["a", "b"]
    assert all(r["compared"] and r["mismatched_bytes"] == 0 for r in rep["layers"])
    assert all(r["host_mismatched_bytes"] == 0 for r in rep["layers"])
