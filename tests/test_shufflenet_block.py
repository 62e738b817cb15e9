"""A ShuffleNetV2-style network (channel split, branch, concat, channel shuffle as PyTorch exports
it) end to end: converted from ONNX, the Python reference, the host C and the C on an emulated
Cortex-M4 give the same bytes, and the int8 model follows onnxruntime's float model."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper

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
