"""Train the bundled `digits` example and export it to ONNX.

A small CNN on scikit-learn's handwritten digits (sklearn.datasets.load_digits:
1797 grayscale 8x8 images, 10 classes; the data ships inside scikit-learn, so
nothing is downloaded).

Regenerate every artifact in this folder with:

    python examples/digits/train.py

Needs torch (CPU), scikit-learn, numpy, onnx and onnxruntime. torch is needed
only to regenerate this example; edgenn itself never imports it.

Artifacts written next to this file:
    model.onnx   float model, opset 13, input "input" (1,1,8,8) NCHW float32 in [0,1],
                 output "probs" (1,10) softmax probabilities
    calib.npy    float32 (200,1,8,8)  calibration images (drawn from the training part)
    test_x.npy   float32 (360,1,8,8)  held-out test images
    test_y.npy   int64   (360,)       test labels
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

HERE = Path(__file__).resolve().parent
SEED = 0
N_TEST = 360
N_CALIB = 200
EPOCHS = 40
BATCH = 32
LR = 3e-3


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    # One thread: float reductions then happen in a fixed order, so a rerun
    # gives bit-identical weights (and the model is tiny anyway).
    torch.set_num_threads(1)


def load_data() -> dict[str, np.ndarray]:
    """Deterministic stratified split: test (360), train (rest), calib (200 of train)."""
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)  # NCHW, [0,1]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=N_TEST, stratify=y, random_state=SEED
    )
    # Calibration set: a stratified subset of the training part (overlap with
    # training is normal for post-training quantization calibration).
    _, x_calib, _, _ = train_test_split(
        x_train, y_train, test_size=N_CALIB, stratify=y_train, random_state=SEED
    )
    return {
        "x_train": np.ascontiguousarray(x_train, dtype=np.float32),
        "y_train": np.ascontiguousarray(y_train, dtype=np.int64),
        "x_calib": np.ascontiguousarray(x_calib, dtype=np.float32),
        "x_test": np.ascontiguousarray(x_test, dtype=np.float32),
        "y_test": np.ascontiguousarray(y_test, dtype=np.int64),
    }


class DigitsNet(nn.Module):
    """Conv-BN-ReLU, depthwise Conv-BN-ReLU6, pointwise Conv-BN-ReLU, MaxPool,
    Conv-ReLU, AvgPool, Flatten, Linear (+ Softmax in the exported graph)."""

    def __init__(self, with_softmax: bool = False) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),  # 1x8x8 -> 16x8x8
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1, groups=16),  # depthwise
            nn.BatchNorm2d(16),
            nn.ReLU6(),
            nn.Conv2d(16, 32, 1),  # pointwise
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),  # -> 32x4x4
            nn.Conv2d(32, 32, 3, padding=1, stride=1),
            nn.ReLU(),
            nn.AvgPool2d(2),  # -> 32x2x2
            nn.Flatten(),  # -> 128
            nn.Linear(32 * 2 * 2, 10),
        )
        self.with_softmax = with_softmax

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.features(x)
        if self.with_softmax:
            return torch.softmax(logits, dim=1)
        return logits


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int = EPOCHS) -> None:
    """Adam with a cosine schedule; also trains examples/dscnn."""
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        if epoch % 10 == 9 or epoch == epochs - 1:
            print(f"epoch {epoch + 1:3d}  train loss {total / len(xt):.4f}")


def tidy(m: onnx.ModelProto) -> onnx.ModelProto:
    """Remove exporter clutter without changing the math.

    - `Identity` nodes whose input is an initializer (the exporter deduplicates
      equal parameter tensors and re-exposes them through Identity): replaced by
      a copy of the initializer under the Identity's output name.
    - `Constant` nodes (the Clip bounds of ReLU6): turned into initializers.
    """
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    keep = []
    for node in g.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            t = onnx.TensorProto()
            t.CopyFrom(inits[node.input[0]])
            t.name = node.output[0]
            g.initializer.append(t)
        elif node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(node.attribute[0].t)
            t.name = node.output[0]
            g.initializer.append(t)
        else:
            keep.append(node)
    del g.node[:]
    g.node.extend(keep)
    # Drop initializers no node reads any more.
    used = {i for n in g.node for i in n.input}
    unused = [t for t in g.initializer if t.name not in used]
    for t in unused:
        g.initializer.remove(t)
    return m


def output_folder(doc: str, default: Path) -> Path:
    """The --out folder of an example's training script (created), its own folder by default."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default, help="output folder")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    return out


def fit_and_evaluate(model: nn.Module, d: dict[str, np.ndarray], epochs: int) -> np.ndarray:
    """Train (``train``), then the float model's test outputs; prints parameters, time and accuracy
    (examples/dscnn and examples/digits_transformer)."""
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    t0 = time.perf_counter()
    train(model, d["x_train"], d["y_train"], epochs=epochs)
    print(f"training time: {time.perf_counter() - t0:.1f} s")
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(d["x_test"])).numpy()
    print(f"torch float test accuracy: {float((out.argmax(1) == d['y_test']).mean()):.4f}")
    return out


def check_export(onnx_path: Path, d: dict[str, np.ndarray], torch_out: np.ndarray, output: str,
                 tol: float) -> float:
    """onnxruntime on the exported file reproduces torch on the test set (within ``tol``) and keeps
    at least 95 % accuracy; returns that accuracy (also used by examples/dscnn, digits_transformer)."""
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ort_out = np.concatenate([sess.run([output], {"input": d["x_test"][i : i + 1]})[0]
                              for i in range(len(d["x_test"]))])
    max_diff = float(np.abs(ort_out - torch_out).max())
    acc = float((ort_out.argmax(1) == d["y_test"]).mean())
    print(f"{onnx_path.name}: onnxruntime float test accuracy: {acc:.4f}  (max |ort - torch| = {max_diff:.2e})")
    assert max_diff < tol, f"ONNX export does not reproduce torch: max diff {max_diff}"
    assert acc >= 0.95, f"float accuracy too low: {acc}"
    return acc


def save_data(out: Path, d: dict[str, np.ndarray], models: list[str]) -> None:
    """calib.npy, test_x.npy, test_y.npy next to the exported models; prints every file's size."""
    np.save(out / "calib.npy", d["x_calib"])
    np.save(out / "test_x.npy", d["x_test"])
    np.save(out / "test_y.npy", d["y_test"])
    for name in models + ["calib.npy", "test_x.npy", "test_y.npy"]:
        print(f"{name:20s} {(out / name).stat().st_size:8d} bytes")


def main() -> None:
    out = output_folder(__doc__, HERE)

    seed_everything(SEED)
    d = load_data()
    print(f"train {d['x_train'].shape}  calib {d['x_calib'].shape}  test {d['x_test'].shape}")

    model = DigitsNet()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params}")

    t0 = time.perf_counter()
    train(model, d["x_train"], d["y_train"])
    print(f"training time: {time.perf_counter() - t0:.1f} s")

    model.eval()
    model.with_softmax = True
    with torch.no_grad():
        torch_probs = model(torch.from_numpy(d["x_test"])).numpy()
    torch_acc = float((torch_probs.argmax(1) == d["y_test"]).mean())
    print(f"torch float test accuracy: {torch_acc:.4f}")

    onnx_path = out / "model.onnx"
    # Legacy (TorchScript) exporter, eval mode. do_constant_folding=False keeps
    # the BatchNormalization nodes in the graph (with folding on, the exporter
    # fuses them into the preceding Conv), so the example exercises edgenn's own
    # BatchNorm folding pass. It also leaves some clutter that tidy() removes.
    torch.onnx.export(
        model,
        (torch.zeros(1, 1, 8, 8),),
        str(onnx_path),
        opset_version=13,
        input_names=["input"],
        output_names=["probs"],
        dynamo=False,
        do_constant_folding=False,
    )
    m = tidy(onnx.load(str(onnx_path)))
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(onnx_path))
    print("onnx ops:", " ".join(n.op_type for n in m.graph.node))

    check_export(onnx_path, d, torch_probs, "probs", 1e-4)
    save_data(out, d, ["model.onnx"])


if __name__ == "__main__":
    main()
