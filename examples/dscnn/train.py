"""Train the `dscnn` example (a DS-CNN-style keyword-spotting architecture) and export it to ONNX.

The MLPerf Tiny keyword-spotting model is a DS-CNN: a strided first convolution, then
depthwise-separable blocks (depthwise 3x3 + BatchNorm + ReLU, pointwise 1x1 + BatchNorm + ReLU),
global average pooling and one fully connected layer. This is the same architecture at 64
channels, trained on scikit-learn's handwritten digits upsampled to 16x16 (real data that ships
with scikit-learn, so nothing is downloaded; the same split as examples/digits). It exists to
exercise pruning and compression on the architecture the field benchmarks, in float, with
labels to measure accuracy.

Regenerate every artifact in this folder with:

    python examples/dscnn/train.py

Needs torch (CPU), scikit-learn, numpy, onnx and onnxruntime; edgenn itself never imports torch.

Artifacts written next to this file:
    model.onnx   float model, opset 13, input "input" (1,1,16,16) NCHW float32 in [0,1],
                 output "logits" (1,10)
    calib.npy    float32 (200,1,16,16)  calibration images (from the training part)
    test_x.npy   float32 (360,1,16,16)  held-out test images
    test_y.npy   int64   (360,)         test labels
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
EPOCHS = 30  # Adam, lr 3e-3, batch 32, cosine schedule: examples/digits/train.py train()
CHANNELS = 64
BLOCKS = 4


def _digits_train_module():
    """examples/digits/train.py: the data split, seeding and ONNX tidying are shared with it."""
    spec = importlib.util.spec_from_file_location("digits_train", HERE.parent / "digits" / "train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def upsample(x: np.ndarray) -> np.ndarray:
    """8x8 -> 16x16 by pixel repetition (keeps the values exactly, [0, 1])."""
    return np.ascontiguousarray(x.repeat(2, axis=2).repeat(2, axis=3), dtype=np.float32)


class DSCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(1, CHANNELS, 3, stride=2, padding=1), nn.BatchNorm2d(CHANNELS), nn.ReLU()]
        for _ in range(BLOCKS):
            layers += [nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1, groups=CHANNELS), nn.BatchNorm2d(CHANNELS), nn.ReLU(),
                       nn.Conv2d(CHANNELS, CHANNELS, 1), nn.BatchNorm2d(CHANNELS), nn.ReLU()]
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(CHANNELS, 10)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def main() -> None:
    digits = _digits_train_module()
    out = digits.output_folder(__doc__, HERE)
    digits.seed_everything(digits.SEED)
    d = {k: (upsample(v) if k.startswith("x_") else v) for k, v in digits.load_data().items()}
    model = DSCNN()
    torch_logits = digits.fit_and_evaluate(model, d, EPOCHS)

    onnx_path = out / "model.onnx"
    torch.onnx.export(model, (torch.zeros(1, 1, 16, 16),), str(onnx_path), opset_version=13,
                      input_names=["input"], output_names=["logits"], dynamo=False, do_constant_folding=False)
    m = digits.tidy(onnx.load(str(onnx_path)))
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(onnx_path))
    print("onnx ops:", " ".join(n.op_type for n in m.graph.node))
    digits.check_export(onnx_path, d, torch_logits, "logits", 1e-3)
    digits.save_data(out, d, ["model.onnx"])

if __name__ == "__main__":
    main()
