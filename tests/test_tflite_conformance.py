"""Imported int8 .tflite models: TFLM == runtime_py == host C == QEMU Cortex-M4, byte for byte."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgenn.converter.tflite_import import convert_tflite_bytes
from edgenn.emulation import backends as be
from edgenn.emulation.tflm import run_tflm_file
from edgenn.errors import ModelFormatError, UnsupportedOpError

from tflite_builder import TfOp, TfTensor, build

DATA = Path(__file__).resolve().parent / "data" / "mlperf_tiny"
MODELS = {
    "kws": "kws_ref_model.tflite",
    "vww": "vww_96_int8.tflite",
    "ic": "pretrainedResnet_quant.tflite",
    "ad": "ad01_int8.tflite",
}
N = 100


def seeded_inputs(model, n: int = N, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    xs = []
    for d in model.inputs:
        t = model.tensors[d.tensor]
        x = rng.integers(-128, 128, (n,) + tuple(t.shape)).astype(np.int8)
        x[0] = -128
        x[1] = 127
        xs.append(x)
    return xs


@pytest.mark.qemu
@pytest.mark.parametrize("key", sorted(MODELS))
def test_mlperf_tiny_bit_exact_with_tflm_on_every_backend(key):
    path = DATA / MODELS[key]
    model = convert_tflite_bytes(path.read_bytes(), key, str(path))
    xs = seeded_inputs(model)
    tflm = run_tflm_file(path, model, xs)
    results = {"python": be.run(model, xs, "python"), "host": be.run(model, xs, "host"),
               "qemu": be.run(model, xs, "qemu", "mps2-an386")}
    for name, outs in results.items():
        for a, b in zip(outs, tflm):
            diff = int(np.count_nonzero(a != b))
            assert diff == 0, f"{key}: {name} differs from TFLM in {diff} of {a.size} bytes"
    # The inputs must exercise the model: outputs are not all identical.
    assert len({o.tobytes() for o in tflm[0]}) > 1


def test_unsupported_operator_is_named_with_its_index():
    ts = [TfTensor("x", (1, 8), "int8", 0.1, 0), TfTensor("y", (1, 8), "int8", 0.1, 0),
          TfTensor("z", (1, 8), "int8", 1 / 128, 0)]
    data = build(ts, [TfOp("RELU", [0], [1]), TfOp("FLOOR", [1], [2])], [0], [2])
    with pytest.raises(UnsupportedOpError, match=r"operator 1 \(FLOOR\) is not supported"):
        convert_tflite_bytes(data)


def test_float_model_is_refused_with_advice():
    w = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    ts = [TfTensor("x", (1, 8), "float32"), TfTensor("w", (4, 8), "float32", data=w), TfTensor("y", (1, 4), "float32")]
    data = build(ts, [TfOp("FULLY_CONNECTED", [0, 1, -1], [2], "FullyConnectedOptions", {"FusedActivationFunction": 0})],
                 [0], [2])
    with pytest.raises(UnsupportedOpError, match="not fully int8-quantized.*edgenn convert model.onnx"):
        convert_tflite_bytes(data)


def test_float16_model_is_refused_with_advice():
    """MediaPipe's models keep float16 weights (DEQUANTIZE to float32 at run time)."""
    w = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float16)
    ts = [TfTensor("x", (1, 8), "float32"), TfTensor("w16", (4, 8), "float16", data=w), TfTensor("w", (4, 8), "float32"),
          TfTensor("y", (1, 4), "float32")]
    data = build(ts, [TfOp("DEQUANTIZE", [1], [2]),
                      TfOp("FULLY_CONNECTED", [0, 2, -1], [3], "FullyConnectedOptions", {"FusedActivationFunction": 0})],
                 [0], [3])
    with pytest.raises(UnsupportedOpError, match="'w16' has type float16: this .tflite model is not fully "
                                                 "int8-quantized.*edgenn convert model.onnx"):
        convert_tflite_bytes(data)


def test_float_boundary_quantize_dequantize_is_accepted():
    """A full-integer model with float input/output (QUANTIZE ... DEQUANTIZE) imports as int8."""
    rng = np.random.default_rng(1)
    w = rng.integers(-127, 128, (4, 8)).astype(np.int8)
    ts = [TfTensor("xf", (1, 8), "float32"), TfTensor("xq", (1, 8), "int8", 0.05, 3),
          TfTensor("w", (4, 8), "int8", 0.02, 0, data=w), TfTensor("yq", (1, 4), "int8", 0.3, -2),
          TfTensor("yf", (1, 4), "float32")]
    ops = [TfOp("QUANTIZE", [0], [1]),
           TfOp("FULLY_CONNECTED", [1, 2, -1], [3], "FullyConnectedOptions", {"FusedActivationFunction": 0}),
           TfOp("DEQUANTIZE", [3], [4])]
    model = convert_tflite_bytes(build(ts, ops, [0], [4]))
    assert [op.type for op in model.ops] == ["fully_connected"]
    assert model.tensors[model.inputs[0].tensor].dtype == "int8"


@pytest.mark.parametrize("damage", ["truncated_half", "truncated_tail", "garbage", "bad_identifier", "empty"])
def test_corrupt_tflite_is_a_clear_error(damage):
    good = (DATA / MODELS["kws"]).read_bytes()
    rng = np.random.default_rng(2)
    data = {
        "truncated_half": good[: len(good) // 2],
        "truncated_tail": good[:-3000],
        "garbage": good[:8] + bytes(rng.integers(0, 256, 4000, dtype=np.uint8)),
        "bad_identifier": b"\x00" * 4 + b"XXXX" + good[8:],
        "empty": b"",
    }[damage]
    with pytest.raises((ModelFormatError, UnsupportedOpError)):
        convert_tflite_bytes(data, "m", "bad.tflite")


def test_random_byte_flips_never_crash():
    good = bytearray((DATA / MODELS["ad"]).read_bytes())
    rng = np.random.default_rng(3)
    for _ in range(40):
        d = bytearray(good)
        for pos in rng.integers(0, 4096, 4):  # the table area, not just weights
            d[pos] = int(rng.integers(0, 256))
        try:
            convert_tflite_bytes(bytes(d), "m", "flipped.tflite")
        except (ModelFormatError, UnsupportedOpError):
            pass
