"""End to end: a small UNet (ConvTranspose and bilinear Resize decoders, skip concatenations), a
PixelShuffle-free super-resolution net (nearest and bilinear Resize) and a chain of PyTorch's
upsampling variants, exported by torch.onnx (tests/data/onnx_nets/make_nets.py): converted with
calibration data, bit-exact across runtime_py, host C and the Cortex-M4 in QEMU, and cosine >= 0.99
with onnxruntime's float result on digit images."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.validate import validate

ROOT = Path(__file__).resolve().parent.parent
NETS = ROOT / "tests" / "data" / "onnx_nets"
DIGITS = ROOT / "examples" / "digits"


def _images(name: str, size: int, channels: int = 1) -> np.ndarray:
    """Digit images (8x8, values 0..1) resized to size x size by pixel repetition and smoothing."""
    x = np.load(DIGITS / name).astype(np.float32)
    if size != 8:
        x = np.repeat(np.repeat(x, size // 8, axis=2), size // 8, axis=3)
        x = (x + np.roll(x, 1, axis=2) + np.roll(x, 1, axis=3) + np.roll(np.roll(x, 1, axis=2), 1, axis=3)) / 4
    return np.repeat(x, channels, axis=1) if channels > 1 else x


CASES = [
    ("unet.onnx", 16, 1, {"transpose_conv", "resize_bilinear", "concat"}),
    ("sr.onnx", 8, 1, {"resize_nearest", "resize_bilinear", "add"}),
    ("upsample_variants.onnx", 8, 3, {"resize_nearest", "resize_bilinear"}),
]


@pytest.mark.qemu
@pytest.mark.parametrize("name, size, channels, ops", CASES)
def test_net_bit_exact_and_close_to_float(name, size, channels, ops):
    calib = _images("calib.npy", size, channels)
    data = _images("test_x.npy", size, channels)[:24]
    m = convert(NETS / name, [calib], ConvertOptions(progress=False))
    assert ops <= {o.type for o in m.ops}, [o.type for o in m.ops]
    rep = validate(NETS / name, m, [data], None, ["python", "host", "qemu"], "mps2-an386", progress=False)
    for be in ("host", "qemu"):
        assert rep["backends"][be]["mismatched_bytes"] == 0, (name, be)
    cos = rep["backends"]["python"]["cosine"]
    assert cos >= 0.99, f"{name}: cosine {cos:.4f} with onnxruntime"
