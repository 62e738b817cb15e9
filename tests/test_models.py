"""Whole models: python == host C == QEMU Cortex-M4 byte for byte, and int8 quality vs float."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.emulation import backends as be
from edgenn.format import enn
from edgenn.runtime_py import dataio
from edgenn.validate import validate

from onnx_models import ds_residual_cnn

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples" / "digits"


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    m = convert(DIGITS / "model.onnx", [np.load(DIGITS / "calib.npy")], ConvertOptions(name="digits", progress=False))
    p = tmp_path_factory.mktemp("digits") / "digits.enn"
    enn.save(m, p)
    return enn.load(p)


@pytest.mark.qemu
def test_digits_all_backends_bit_exact_and_accurate(digits):
    x = np.load(DIGITS / "test_x.npy")
    y = np.load(DIGITS / "test_y.npy")
    rep = validate(DIGITS / "model.onnx", digits, [x], y, ["python", "host", "qemu"], "mps2-an386", progress=False)
    assert rep["samples"] == 360
    for name in ("python", "host", "qemu"):
        assert rep["backends"][name]["mismatched_bytes"] == 0, name
    acc = rep["backends"]["python"]["accuracy"]
    assert acc >= rep["float_accuracy"] - 0.01, (acc, rep["float_accuracy"])
    assert rep["backends"]["python"]["top1_agreement"] >= 0.98


def test_digits_is_fully_int8_and_folded(digits):
    types = [op.type for op in digits.ops]
    # BatchNorm folded into the convolutions, activations fused: no standalone clip/mul/add left.
    assert "clip" not in types and "mul" not in types and "add" not in types
    assert types.count("conv2d") == 3 and types.count("depthwise_conv2d") == 1
    for t in digits.tensors:
        assert t.dtype in ("int8", "int32"), t.name
        if t.dtype == "int32":
            assert t.is_const  # biases only


@pytest.fixture(scope="module")
def ds_residual(tmp_path_factory):
    d = tmp_path_factory.mktemp("dsres")
    path = d / "dsres.onnx"
    onnx.save(ds_residual_cnn(seed=3), path)
    rng = np.random.default_rng(4)
    calib = rng.normal(0, 1, (64, 1, 3, 16, 16)).astype(np.float32).reshape(64, 3, 16, 16)
    m = convert(path, [calib], ConvertOptions(progress=False))
    return path, m


def test_ds_residual_structure(ds_residual):
    _, m = ds_residual
    types = [op.type for op in m.ops]
    assert "depthwise_conv2d" in types and "add" in types and "mean" in types and "softmax" in types
    dw = [op for op in m.ops if op.type == "depthwise_conv2d"]
    assert any(int(op.options.get("depth_multiplier", 1)) == 2 for op in dw)


@pytest.mark.qemu
def test_ds_residual_all_backends_bit_exact(ds_residual):
    path, m = ds_residual
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (60, 3, 16, 16)).astype(np.float32)
    rep = validate(path, m, [x], None, ["python", "host", "qemu"], "mps2-an386", progress=False)
    for name in ("python", "host", "qemu"):
        assert rep["backends"][name]["mismatched_bytes"] == 0, name
    # int8 close to the float model on in-distribution data
    assert rep["backends"]["python"]["cosine"] > 0.98


def test_extreme_int8_inputs_through_python_and_host(digits):
    xs = [np.stack([np.full((1, 8, 8, 1), -128, np.int8), np.full((1, 8, 8, 1), 127, np.int8),
                    np.zeros((1, 8, 8, 1), np.int8)])]
    a = be.run(digits, xs, "python")
    b = be.run(digits, xs, "host")
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_float_io_roundtrip_layout(digits):
    """Data in the source layout (NCHW) comes back in the source layout."""
    x = np.load(DIGITS / "test_x.npy")[:5]
    q = dataio.to_internal(digits, [x])
    assert q[0].shape == (5, 1, 8, 8, 1)
    assert np.array_equal(q[0][:, 0, :, :, 0], dataio.quantize(x[:, 0], digits.tensors[digits.inputs[0].tensor]))
    out = dataio.from_internal(digits, be.run(digits, q, "python"), as_float=True)
    assert out[0].shape == (5, 1, 10) and out[0].dtype == np.float32
    assert np.allclose(out[0].sum(axis=-1), 1.0, atol=0.05)
