"""A model with trained weights (tests/data/trained: PaddleOCR's MobileNetV3 text-direction
classifier, unmodified): converted with calibration data of its own domain (rendered text lines,
half of them turned by 180 degrees), it must be bit-exact on runtime_py, host C and the emulated
Cortex-M4, and within cosine 0.99 of onnxruntime's float logits, where the zoo's random-weight
MobileNetV3s are not (docs/zoo_accuracy.md)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.validate import validate

MODEL = Path(__file__).resolve().parent / "data" / "trained" / "ppocr_mobile_v2_cls.onnx"
HEIGHT, WIDTH = 48, 192
CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-"


def text_lines(n: int, seed: int) -> np.ndarray:
    """(n, 3, 48, 192) float32 in the classifier's normalization ((x / 255 - 0.5) / 0.5): random
    strings in Pillow's bundled font, random size, ink, paper and position, light noise; odd
    samples turned by 180 degrees."""
    from PIL import Image, ImageDraw, ImageFont  # Pillow: a dependency of matplotlib

    rng = np.random.default_rng(seed)
    out = np.empty((n, 3, HEIGHT, WIDTH), np.float32)
    for i in range(n):
        im = Image.new("L", (WIDTH, HEIGHT), int(rng.integers(200, 256)))
        size = int(rng.integers(18, 34))
        text = "".join(rng.choice(list(CHARS), int(rng.integers(5, 14))))
        ImageDraw.Draw(im).text((int(rng.integers(0, 20)), int(rng.integers(0, HEIGHT - size))), text,
                                fill=int(rng.integers(0, 80)), font=ImageFont.load_default(size=size))
        a = np.asarray(im, np.float32)
        if i % 2:
            a = a[::-1, ::-1]
        a = np.clip(a + rng.normal(0, 4, a.shape), 0, 255) / 255.0
        out[i] = (a - 0.5) / 0.5
    return out


def logits_model(path: Path) -> Path:
    """The classifier without its final Softmax (its logits: a cosine over two probabilities that
    saturate near 0 and 1 would say little), written next to ``path``."""
    m = onnx.load(str(MODEL))
    nodes = list(m.graph.node)
    k = next(i for i, n in enumerate(nodes) if n.op_type == "Softmax")
    logits = nodes[k].input[0]
    del m.graph.node[k:]
    del m.graph.output[:]
    m.graph.output.extend([helper.make_tensor_value_info(logits, TensorProto.FLOAT, ["N", 2])])
    onnx.save(m, str(path))
    return path


def test_the_float_model_reads_the_rendered_lines():
    """The inputs are of the model's domain: it tells upright from turned lines."""
    xs = text_lines(96, seed=1)
    p = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"]).run(None, {"x": xs})[0]
    upright = np.arange(len(xs)) % 2 == 0
    assert np.mean((p[:, 0] > 0.5) == upright) >= 0.75  # measured 0.83-0.88 (chance: 0.5)


@pytest.mark.qemu
def test_trained_mobilenet_v3_is_bit_exact_and_within_cosine_0_99(tmp_path):
    path = logits_model(tmp_path / "cls_logits.onnx")
    calib, test = text_lines(96, seed=0), text_lines(32, seed=1)
    model = convert(path, [calib], ConvertOptions(name="ppocr_cls", progress=False,
                                                  input_shapes={"x": (1, 3, HEIGHT, WIDTH)}))
    # Paddle's HardSigmoid / HardSwish (Clip, Add, Div) become lookup tables and products.
    assert {"conv2d", "depthwise_conv2d", "lut", "mul", "mean"} <= {op.type for op in model.ops}
    rep = validate(path, model, [test], None, ["python", "host"], progress=False)
    for be, r in rep["backends"].items():
        assert r["mismatched_bytes"] == 0, f"{be} differs from python in {r['mismatched_bytes']} bytes"
    py = rep["backends"]["python"]
    assert py["cosine"] >= 0.99, py
    assert py["top1_agreement"] >= 0.96, py
    q = validate(path, model, [test[:2]], None, ["python", "qemu"], "mps2-an386", progress=False)
    assert q["backends"]["qemu"]["mismatched_bytes"] == 0
