"""examples/digits_transformer (a 2-layer PyTorch transformer encoder on digits rows): both exports
(opset 17 LayerNormalization, opset 14 decomposed) convert to the same int8 operators; int8 accuracy
within 1 point of float; python == host C == Cortex-M4 == Cortex-M55 byte for byte; layer by layer
close to onnxruntime."""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.layers import compare_layers
from edgenn.validate import validate

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits_transformer"


@lru_cache(maxsize=None)
def model(name: str = "model.onnx"):
    return convert(EXAMPLE / name, [np.load(EXAMPLE / "calib.npy")],
                   ConvertOptions(name="digits_transformer", progress=False))


def data():
    return [np.load(EXAMPLE / "test_x.npy")], np.load(EXAMPLE / "test_y.npy")


def test_example_files():
    x, y = data()
    assert x[0].shape == (360, 8, 8) and x[0].dtype == np.float32 and y.shape == (360,)
    assert np.load(EXAMPLE / "calib.npy").shape == (200, 8, 8)
    assert (EXAMPLE / "model.onnx").stat().st_size < 150_000


def test_both_exports_give_the_same_int8_operators():
    """LayerNormalization (opset 17) and its decomposition (opset 14) import alike; the Erf GELU
    formula becomes one table; attention is batch_matmul + softmax."""
    a, b = model("model.onnx"), model("model_opset14.onnx")
    ta, tb = Counter(op.type for op in a.ops), Counter(op.type for op in b.ops)
    assert ta == tb
    assert ta["batch_matmul"] == 4 and ta["softmax"] == 2 and ta["squared_difference"] == 4
    assert ta["lut"] == 6  # 4 rsqrt + 2 GELU
    assert not any(op.type == "transpose" and len(a.tensors[op.inputs[0]].shape) > 5 for op in a.ops)


@pytest.mark.parametrize("name", ["model.onnx", "model_opset14.onnx"])
def test_accuracy_within_a_point_of_float_and_host_c_bit_exact(name):
    x, y = data()
    rep = validate(EXAMPLE / name, model(name), x, y, ["python", "host"], progress=False)
    assert rep["backends"]["host"]["mismatched_bytes"] == 0
    acc, fl = rep["backends"]["python"]["accuracy"], rep["float_accuracy"]
    assert fl >= 0.95
    assert acc >= fl - 0.01, (acc, fl)
    assert rep["backends"]["python"]["top1_agreement"] >= 0.98
    assert rep["backends"]["python"]["cosine"] >= 0.999


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])
def test_bit_exact_on_cortex_m(board):
    x, y = data()
    rep = validate(EXAMPLE / "model.onnx", model(), [x[0][:60]], y[:60], ["python", "qemu"], board, progress=False)
    assert rep["backends"]["qemu"]["mismatched_bytes"] == 0


def test_layers_follow_onnxruntime():
    """Every layer with an ONNX value behind it stays close to onnxruntime's float value (the
    comparison of `edgenn validate --layers`); the worst is a layer normalization output."""
    x, _ = data()
    rep = compare_layers(EXAMPLE / "model.onnx", model(), [x[0][:16]])
    compared = [r for r in rep["layers"] if r.get("cosine") is not None]
    assert len(compared) >= 40
    assert min(r["cosine"] for r in compared) >= 0.99, min((r["cosine"], r["tensor"]) for r in compared)
