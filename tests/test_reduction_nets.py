"""Networks that end in ArgMax or normalize with LRN, end to end:

- the digits classifier (examples/digits, a small CNN trained with PyTorch and exported by
  torch.onnx) with an ArgMax(axis=1, keepdims=0) on its logits: converted and run through the CLI
  on the Python reference, the host C and the Cortex-M4 under QEMU, which write the same int64
  labels; they are the first index of the largest int8 logit and keep the float model's accuracy;
- an AlexNet-style block (11x11 stride-4 convolution, ReLU, LRN, overlapping max pooling, twice):
  Python, host C and Cortex-M4 byte-identical, close to onnxruntime's float model."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgenn.converter.calibrate import run_float
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.runtime_py import dataio
from edgenn.runtime_py.interpreter import Interpreter
from edgenn.validate import validate

from onnx_models import Builder

DIGITS = Path(__file__).resolve().parent.parent / "examples" / "digits"


def edgenn(*args) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "edgenn", *map(str, args)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r


def digits_with_argmax(keep_logits: bool = False) -> onnx.ModelProto:
    """The digits model with its Softmax replaced by ArgMax over the logits (int64 labels)."""
    m = onnx.load(DIGITS / "model.onnx")
    g = m.graph
    soft = next(n for n in g.node if n.op_type == "Softmax")
    logits = soft.input[0]
    g.node.remove(soft)
    g.node.append(helper.make_node("ArgMax", [logits], ["label"], name="argmax", axis=1, keepdims=0))
    del g.output[:]
    if keep_logits:
        g.output.append(helper.make_tensor_value_info(logits, TensorProto.FLOAT, [1, 10]))
    g.output.append(helper.make_tensor_value_info("label", TensorProto.INT64, [1]))
    onnx.checker.check_model(m)
    return m


@pytest.mark.qemu
def test_argmax_classifier_cli_python_host_qemu_write_the_same_int64_labels(tmp_path):
    onnx.save(digits_with_argmax(), tmp_path / "digits_argmax.onnx")
    enn = tmp_path / "d.enn"
    edgenn("convert", tmp_path / "digits_argmax.onnx", "--calib", DIGITS / "calib.npy", "-o", enn)
    x, labels = DIGITS / "test_x.npy", np.load(DIGITS / "test_y.npy")
    edgenn("run", enn, "-i", x, "-o", tmp_path / "py.npy")
    edgenn("run", enn, "-i", x, "-o", tmp_path / "host.npy", "--backend", "host")
    edgenn("run", enn, "-i", x, "-o", tmp_path / "m4.npy", "--backend", "qemu", "--board", "mps2-an386")
    ys = {k: np.load(tmp_path / f"{k}.npy") for k in ("py", "host", "m4")}
    for k, y in ys.items():
        assert y.dtype == np.int64 and y.shape == (labels.size, 1), (k, y.dtype, y.shape)
    assert np.array_equal(ys["py"], ys["host"]) and np.array_equal(ys["py"], ys["m4"])
    float_logits = run_float(onnx.load(DIGITS / "model.onnx"), {"input": np.load(x)[:, None]}, ["probs"])["probs"]
    float_acc = float(np.mean(np.argmax(np.stack(float_logits).reshape(labels.size, -1), axis=1) == labels))
    acc = float(np.mean(ys["py"].reshape(-1) == labels))
    assert acc >= float_acc - 0.01, (acc, float_acc)


def test_argmax_labels_are_the_first_largest_int8_logit(tmp_path):
    p = tmp_path / "digits_both.onnx"
    onnx.save(digits_with_argmax(keep_logits=True), p)
    calib = np.load(DIGITS / "calib.npy")
    m = convert(p, [calib], ConvertOptions(progress=False))
    assert [op.type for op in m.ops][-1] == "arg_min_max"
    x = np.load(DIGITS / "test_x.npy")
    logits, label = Interpreter(m).invoke(*dataio.to_internal(m, [x]))
    assert label.dtype == np.int64
    assert np.array_equal(label.reshape(-1), np.argmax(logits.reshape(len(x), -1), axis=1))  # ties: first index
    rep = validate(p, m, [x], None, ["python", "host"], progress=False)
    assert rep["bit_exact"]


def alexnet_block(seed: int = 0) -> onnx.ModelProto:
    """conv 11x11/4 (64) -> ReLU -> LRN(5, 1e-4, 0.75, 2) -> maxpool 3/2 -> conv 5x5 (96) -> ReLU ->
    LRN -> maxpool 3/2 -> global average pool -> Gemm (AlexNet's first two stages, narrowed)."""
    b = Builder(seed)
    h = b.node("Relu", [b.conv("input", 3, 32, 11, stride=4, pad=2)])  # (1, 32, 15, 15)
    h = b.node("LRN", [h], size=5, alpha=1e-4, beta=0.75, bias=2.0)
    h = b.node("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2])  # 7x7
    h = b.node("Relu", [b.conv(h, 32, 48, 5, pad=2)])
    h = b.node("LRN", [h], size=5, alpha=1e-4, beta=0.75, bias=2.0)
    h = b.node("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2])  # 3x3
    f = b.node("Flatten", [b.node("GlobalAveragePool", [h])], axis=1)
    return b.model([("input", [1, 3, 63, 63])], [b.gemm(f, 48, 10, std=0.3)])


@pytest.mark.qemu
def test_alexnet_block_with_lrn_python_host_qemu_byte_identical(tmp_path):
    p = tmp_path / "alexnet_block.onnx"
    model = alexnet_block()
    onnx.save(model, p)
    rng = np.random.default_rng(3)
    data = [rng.normal(0, 1, (12, 1, 3, 63, 63)).astype(np.float32) * 40]  # pixel-like range: LRN matters
    m = convert(p, data, ConvertOptions(progress=False))
    assert [op.type for op in m.ops].count("lrn") == 2
    rep = validate(p, m, data, None, ["python", "host", "qemu"], board="mps2-an386", progress=False)
    for name in ("host", "qemu"):
        assert rep["backends"][name]["mismatched_bytes"] == 0, name
    assert rep["backends"]["python"]["cosine"] > 0.995, rep["backends"]["python"]["cosine"]
    # LRN does change the network: without it the float outputs differ clearly.
    plain = alexnet_block()
    for n in [n for n in plain.graph.node if n.op_type == "LRN"]:
        n.op_type = "Identity"
        del n.attribute[:]
    a = np.stack(run_float(model, {"input": data[0]}, [model.graph.output[0].name])[model.graph.output[0].name])
    c = np.stack(run_float(plain, {"input": data[0]}, [plain.graph.output[0].name])[plain.graph.output[0].name])
    assert np.max(np.abs(a - c)) > 0.05 * np.max(np.abs(a))
