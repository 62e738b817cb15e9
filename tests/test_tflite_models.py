"""Real TFLite-converter output (tests/data/tflite, made by make_models.py with TensorFlow):
TFLM == runtime_py == host C == QEMU Cortex-M4, byte for byte; clear refusals otherwise."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from edgenn.converter.tflite_import import convert_tflite_bytes
from edgenn.emulation import backends as be
from edgenn.emulation.tflm import run_tflm_file
from tflite_builder import assert_same_as_tflm
from edgenn.errors import UnsupportedOpError
from edgenn.layers import compare_layers, python_layers

DATA = Path(__file__).resolve().parent / "data" / "tflite"
N = 60

#: Fully int8 fixtures -> the edgenn operators their import must contain (guards the fixtures' coverage).
INT8_MODELS = {
    "cnn_int8": {"conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d", "mean", "fully_connected", "softmax"},
    "cnn_float_io": {"conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d", "mean", "fully_connected", "softmax"},
    "branches_int8": {"conv2d", "pad", "concat", "add", "logistic", "mul", "max_pool2d", "reshape", "transpose",
                      "fully_connected"},
    "mlp_int8": {"fully_connected", "logistic"},
    "misc_int8": {"conv2d", "mean", "logistic", "mul", "pad", "avg_pool2d", "depthwise_conv2d", "concat", "add",
                  "reshape", "fully_connected", "softmax"},
    "seq_int8": {"reshape", "conv2d", "max_pool2d", "fully_connected", "softmax", "mean"},
    "unet_int8": {"conv2d", "max_pool2d", "transpose_conv", "concat", "resize_bilinear", "resize_nearest"},
    # Recurrent (make_recurrent_models.py; TFLM's own mnist_lstm example): TFLM keeps the LSTM state
    # between invokes, so the N samples are one stream for TFLM and for edgenn's stateful default.
    "lstm_int8": {"lstm", "slice", "fully_connected", "softmax"},
    "tflm_mnist_lstm_int8": {"lstm", "reshape", "fully_connected", "softmax"},
    # TFLM's keyword benchmark model (SVDF with an int16 state; int16 input, int32 output)
    "tflm_keyword_svdf": {"quantize", "svdf", "fully_connected", "softmax"},
    "transformer_int8": {"fully_connected", "reshape", "transpose", "batch_matmul", "mul", "softmax", "add", "mean",
                         "lut", "squared_difference"},
}


# TFLM's keyword benchmark model has scrambled weights: its 2-class softmax output is constant.
CONSTANT_OUTPUT = {"tflm_keyword_svdf"}


def path(key: str) -> Path:
    return DATA / f"{key}.tflite"


@lru_cache(maxsize=None)
def loaded(key: str):
    """(model, inputs, TFLM outputs), computed once per fixture."""
    p = path(key)
    model = convert_tflite_bytes(p.read_bytes(), key, str(p))
    rng = np.random.default_rng(sorted(INT8_MODELS).index(key))
    xs = []
    for d in model.inputs:
        t = model.tensors[d.tensor]
        info = np.iinfo(np.dtype(t.dtype))
        x = rng.integers(info.min, info.max + 1, (N,) + tuple(t.shape)).astype(t.dtype)
        x[0] = info.min
        x[1] = info.max
        xs.append(x)
    return model, xs, run_tflm_file(p, model, xs)


@pytest.mark.parametrize("key", sorted(INT8_MODELS))
def test_fixture_imports_with_expected_operators(key):
    model, xs, tflm = loaded(key)
    assert INT8_MODELS[key] <= {op.type for op in model.ops}
    assert path(key).stat().st_size < 60_000
    if key in CONSTANT_OUTPUT:  # scrambled weights: the inner layers vary (compared layer by layer)
        outs = [o for _, o in sorted(python_layers(model, [x[:8] for x in xs]).items())]
        assert sum(len({s.tobytes() for s in o}) > 4 for o in outs) >= 8  # the 7 SVDF layers and QUANTIZE
        return
    for out in tflm:  # the seeded inputs exercise the model: the outputs are not all alike
        assert len({o.tobytes() for o in out}) > N // 4


def test_fully_connected_weights_are_per_channel():
    """TF's converter quantizes FULLY_CONNECTED weights per output channel: the case to test."""
    model, _, _ = loaded("mlp_int8")
    fcs = [op for op in model.ops if op.type == "fully_connected"]
    assert fcs
    for op in fcs:
        w = model.tensors[op.inputs[1]]
        assert len(w.scale) == w.shape[0] > 1


@pytest.mark.parametrize("key", sorted(INT8_MODELS))
def test_python_matches_tflm_layer_by_layer(key):
    model, xs, tflm = loaded(key)
    assert_same_as_tflm(key, "python", be.run(model, xs, "python"), tflm)
    rep = compare_layers(path(key), model, [x[:8] for x in xs])
    assert all(row["compared"] for row in rep["layers"])
    bad = [f"{r['index']} {r['op']} ({r['tensor']}): {r['mismatched_bytes']} bytes, max {r['max_abs_diff']} LSB"
           for r in rep["layers"] if r["mismatched_bytes"]]
    assert rep["first_mismatch"] is None, f"{key}: layers differing from TFLM: {bad}"


@pytest.mark.parametrize("key", sorted(INT8_MODELS))
def test_host_c_matches_tflm(key):
    model, xs, tflm = loaded(key)
    assert_same_as_tflm(key, "host", be.run(model, xs, "host"), tflm)


@pytest.mark.qemu
@pytest.mark.parametrize("key", sorted(INT8_MODELS))
def test_qemu_cortex_m4_matches_tflm(key):
    model, xs, tflm = loaded(key)
    assert_same_as_tflm(key, "qemu", be.run(model, xs, "qemu", "mps2-an386"), tflm)


@pytest.mark.parametrize("backend", ["python", "host"])
def test_standalone_relu_with_requantization(backend):
    """A ReLU after CONCATENATION stays a RELU op whose output has its own scale (TFLM ReluQuantized)."""
    p = path("relu_requant_int8")
    model = convert_tflite_bytes(p.read_bytes(), "relu_requant_int8", str(p))
    clips = [op for op in model.ops if op.type == "clip"]
    assert clips and all(op.options["requantize"] for op in clips)
    rng = np.random.default_rng(7)
    xs = [rng.integers(-128, 128, (N,) + tuple(model.tensors[d.tensor].shape)).astype(np.int8)
          for d in model.inputs]
    xs[0][0] = -128
    xs[0][1] = 127
    assert_same_as_tflm("relu_requant_int8", backend, be.run(model, xs, backend), run_tflm_file(p, model, xs))


@pytest.mark.parametrize("backend", ["python", "host"])
def test_hard_swish_model(backend):
    """unsupported_op.tflite was made to show a refusal of HARD_SWISH (operator 1); edgenn now runs
    it, bit-exact with TFLM. (An unsupported operator's refusal: test_tflite_conformance.)"""
    p = path("unsupported_op")
    model = convert_tflite_bytes(p.read_bytes(), "unsupported_op", str(p))
    assert [op.type for op in model.ops] == ["conv2d", "hard_swish", "mean", "fully_connected"]
    rng = np.random.default_rng(8)
    xs = [rng.integers(-128, 128, (N,) + tuple(model.tensors[d.tensor].shape)).astype(np.int8)
          for d in model.inputs]
    xs[0][0] = -128
    xs[0][1] = 127
    want = run_tflm_file(p, model, xs)
    assert len({o.tobytes() for o in want[0]}) > 1
    assert_same_as_tflm("unsupported_op", backend, be.run(model, xs, backend), want)


def test_dynamic_range_model_is_refused_with_advice():
    """Weights-only quantization leaves float activations: refuse, and say how to re-export."""
    p = path("dynamic_range")
    with pytest.raises(UnsupportedOpError, match=r"not fully int8-quantized.*full-integer quantization.*"
                                                 r"representative_dataset"):
        convert_tflite_bytes(p.read_bytes(), "dynamic_range", str(p))
