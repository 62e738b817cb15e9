"""Train the `digits_transformer` example and export it to ONNX.

A two-layer transformer encoder on scikit-learn's handwritten digits read row by row: each 8x8
image is a sequence of 8 tokens (its rows) of 8 features. The data split, seeding and ONNX tidying
are examples/digits/train.py's (nothing is downloaded: the data ships inside scikit-learn).

    python examples/digits_transformer/train.py

Needs torch (CPU), scikit-learn, numpy, onnx and onnxruntime; edgenn itself never imports torch.

Artifacts written next to this file:
    model.onnx          float model, opset 17 (LayerNormalization nodes; GELU as the Erf formula),
                        input "input" (1, 8, 8) float32 in [0, 1] (rows, features), output "logits" (1, 10)
    model_opset14.onnx  the same weights exported at opset 14: layer normalization decomposed into
                        ReduceMean / Sub / Pow / Sqrt / Div / Mul / Add
    calib.npy           float32 (200, 8, 8) calibration images (from the training part)
    test_x.npy          float32 (360, 8, 8) held-out test images
    test_y.npy          int64 (360,) test labels
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
EPOCHS = 60
D_MODEL, HEADS, FF, LAYERS = 32, 4, 64, 2


def _digits_train_module():
    """examples/digits/train.py: the data split, seeding, training loop and ONNX tidying."""
    spec = importlib.util.spec_from_file_location("digits_train", HERE.parent / "digits" / "train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class DigitsTransformer(nn.Module):
    """Linear token embedding + learned positions, 2 post-norm encoder layers (4 heads, GELU
    feed-forward), mean over the tokens, a linear classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(8, D_MODEL)
        self.pos = nn.Parameter(torch.randn(1, 8, D_MODEL) * 0.1)
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.head = nn.Linear(D_MODEL, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], 8, 8)  # (N, 1, 8, 8) training images or (N, 8, 8) rows
        h = self.encoder(self.embed(x) + self.pos)
        return self.head(h.mean(dim=1))


def export(model: nn.Module, path: Path, opset: int, tidy) -> onnx.ModelProto:
    torch.onnx.export(model, (torch.zeros(1, 8, 8),), str(path), opset_version=opset, input_names=["input"],
                      output_names=["logits"], dynamo=False)
    m = tidy(onnx.load(str(path)))
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(path))
    return m


def main() -> None:
    digits = _digits_train_module()
    out = digits.output_folder(__doc__, HERE)
    digits.seed_everything(digits.SEED)
    d = {k: (v.reshape(-1, 8, 8) if k.startswith("x_") else v) for k, v in digits.load_data().items()}
    model = DigitsTransformer()
    torch_logits = digits.fit_and_evaluate(model, d, EPOCHS)
    for name, opset in (("model.onnx", 17), ("model_opset14.onnx", 14)):
        m = export(model, out / name, opset, digits.tidy)
        ops = sorted({n.op_type for n in m.graph.node})
        print(f"{name}: opset {opset}, {len(m.graph.node)} nodes: {' '.join(ops)}")
        digits.check_export(out / name, d, torch_logits, "logits", 1e-3)
    digits.save_data(out, d, ["model.onnx", "model_opset14.onnx"])

if __name__ == "__main__":
    main()
