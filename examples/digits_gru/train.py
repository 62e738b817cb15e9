"""Train the `digits_gru` example: scikit-learn's digits read row by row by a GRU (and an LSTM).

Each 8x8 digit is a sequence of 8 time steps (its rows) of 8 features (the pixels of the row); a
recurrent layer reads the rows and a linear layer classifies its last hidden state. The data split,
seeding, training loop and ONNX tidying are examples/digits/train.py's.

    python examples/digits_gru/train.py

Needs torch (CPU), scikit-learn, numpy, onnx and onnxruntime; edgenn itself never imports torch.

Artifacts written next to this file:
    model.onnx   GRU(8 -> 32) + Linear(32 -> 10) + Softmax, opset 14: input "rows" (1, 8, 8) float32
                 (batch, time, features) in [0, 1], output "probs" (1, 10). torch exports its GRU as an
                 ONNX GRU with linear_before_reset=1 between two Transposes (batch first).
    lstm.onnx    the same with an LSTM(8 -> 32)
    calib.npy    float32 (200, 1, 8, 8)   calibration digits (rows as time steps)
    test_x.npy   float32 (360, 1, 8, 8)   held-out test digits
    test_y.npy   int64   (360,)           test labels
"""
from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
HIDDEN = 32
EPOCHS = 40


def _digits_train_module():
    """examples/digits/train.py: the data split, seeding, training loop and ONNX tidying."""
    spec = importlib.util.spec_from_file_location("digits_train", HERE.parent / "digits" / "train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def rows(x: np.ndarray) -> np.ndarray:
    """(N, 1, 8, 8) images -> (N, 1, 8, 8) sequences: batch 1, 8 steps (rows) of 8 features."""
    return np.ascontiguousarray(x.reshape(-1, 1, 8, 8), dtype=np.float32)


class RowReader(nn.Module):
    """A GRU or LSTM over the rows, a linear classifier on the last step's hidden state."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        cell = nn.GRU if kind == "gru" else nn.LSTM
        self.rnn = cell(8, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, 10)
        self.with_softmax = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:  # (N, 1, 8, 8) training batches: N sequences of 8 rows
            x = x.reshape(x.shape[0], 8, 8)
        y, _ = self.rnn(x)
        logits = self.head(y[:, -1])
        return torch.softmax(logits, dim=1) if self.with_softmax else logits


def export(model: RowReader, path: Path, tidy) -> onnx.ModelProto:
    model.eval()
    model.with_softmax = True
    torch.onnx.export(model, (torch.zeros(1, 8, 8),), str(path), opset_version=14, input_names=["rows"],
                      output_names=["probs"], dynamo=False)
    m = tidy(onnx.load(str(path)))
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(path))
    return m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    dt = _digits_train_module()
    dt.seed_everything(dt.SEED)
    d = dt.load_data()
    for kind, name in (("gru", "model.onnx"), ("lstm", "lstm.onnx")):
        dt.seed_everything(dt.SEED)
        model = RowReader(kind)
        print(f"{kind}: {sum(p.numel() for p in model.parameters())} parameters")
        t0 = time.perf_counter()
        dt.train(model, d["x_train"], d["y_train"], EPOCHS)
        print(f"training time: {time.perf_counter() - t0:.1f} s")
        m = export(model, out / name, dt.tidy)
        print("onnx ops:", " ".join(n.op_type for n in m.graph.node))
        with torch.no_grad():
            torch_probs = model(torch.from_numpy(d["x_test"].reshape(-1, 8, 8))).numpy()
        sess = ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"])
        xs = rows(d["x_test"])
        ort_probs = np.concatenate([sess.run(["probs"], {"rows": xs[i]})[0] for i in range(len(xs))])
        diff = float(np.abs(ort_probs - torch_probs).max())
        acc = float((ort_probs.argmax(1) == d["y_test"]).mean())
        print(f"{kind}: onnxruntime float test accuracy {acc:.4f} (max |ort - torch| = {diff:.2e})")
        assert diff < 1e-4 and acc >= 0.93, (diff, acc)
    np.save(out / "calib.npy", rows(d["x_calib"]))
    np.save(out / "test_x.npy", rows(d["x_test"]))
    np.save(out / "test_y.npy", d["y_test"])
    for name in ("model.onnx", "lstm.onnx", "calib.npy", "test_x.npy", "test_y.npy"):
        print(f"{name:12s} {(out / name).stat().st_size:8d} bytes")


if __name__ == "__main__":
    main()
