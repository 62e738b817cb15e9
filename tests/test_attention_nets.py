"""PyTorch-exported attention nets (tests/data/onnx_nets/make_attention_nets.py): nn.MultiheadAttention
at opset 13 (explicit weights) and 17 (scaled_dot_product_attention), nn.TransformerEncoderLayer
pre-norm (opset 17) and post-norm (opset 14, decomposed layer normalization), and a token
classifier on int64 ids (nn.Embedding). Each converts to int8, the host C equals the Python
reference byte for byte, and the int8 result stays close to onnxruntime's float one."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.validate import validate

NETS = Path(__file__).resolve().parent / "data" / "onnx_nets"
FLOAT_NETS = {"mha_weights_opset13": 2, "mha_opset17": 2, "encoder_prenorm_opset17": 2, "encoder_postnorm_opset14": 2}


def _data(name: str, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    if name.startswith("text"):
        return [rng.integers(0, 50, (n, 10)).astype(np.int64)]
    return [rng.normal(0, 1, (n, 6, 16)).astype(np.float32)]


@pytest.mark.parametrize("name", sorted(FLOAT_NETS) + ["text_opset17"])
def test_attention_net_converts_bit_exact_and_close_to_float(name):
    path = NETS / f"{name}.onnx"
    m = convert(path, _data(name, 128, 0), ConvertOptions(progress=False))
    types = Counter(op.type for op in m.ops)
    assert types["batch_matmul"] == 2 and types["softmax"] == 1
    if "encoder" in name or name.startswith("text"):
        assert types["squared_difference"] == 2  # two layer normalizations
    if name.startswith("text"):
        assert m.ops[0].type == "gather" and m.tensors[m.inputs[0].tensor].dtype == "int32"
    rep = validate(path, m, _data(name, 64, 1), None, ["python", "host"], progress=False)
    assert rep["backends"]["host"]["mismatched_bytes"] == 0
    assert rep["backends"]["python"]["cosine"] >= 0.998, rep["backends"]["python"]["cosine"]


@pytest.mark.qemu
def test_encoder_layer_on_cortex_m4():
    path = NETS / "encoder_postnorm_opset14.onnx"
    m = convert(path, _data("encoder", 128, 0), ConvertOptions(progress=False))
    rep = validate(path, m, _data("encoder", 8, 2), None, ["python", "qemu"], "mps2-an386", progress=False)
    assert rep["backends"]["qemu"]["mismatched_bytes"] == 0
