"""How much int8 rounding the zoo's float models tolerate, before any converter is involved.

For each model (opset 13; the opset-17 export computes the same), on the test images, with
numpy's execution of the imported float graph (``converter/float_exec.py``):

- ``input only``: cosine of the float outputs with the outputs of the same float model whose
  input alone is rounded to the int8 grid the converter gives it (its calibrated range). Every
  int8 model starts from that input, so no choice of quantization parameters downstream can beat
  this number.
- ``weights only``: the float model with only its weights rounded as the converter rounds them
  (symmetric per channel), activations and input left in float.
- ``noise gain``: how many dB of signal-to-noise ratio Gaussian noise at -60 dB on the input loses
  by the output (60 dB minus the output's SNR): about 10-20 dB for a net that quantizes well, 30-40
  dB for one whose outputs a one-LSB change of the image already moves.

Run from the repository: ``.venv/bin/python tests/zoo/sensitivity.py [NAME ...]``; it prints a
Markdown table (docs/zoo_accuracy.md).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from edgenn.converter.float_exec import graph_feeds, run_graph  # noqa: E402
from edgenn.converter.graph import Graph  # noqa: E402
from edgenn.converter.onnx_import import import_onnx  # noqa: E402
from edgenn.converter.ops import is_weighted, traits  # noqa: E402
from edgenn.converter.passes import simplify  # noqa: E402
from edgenn.converter.quantize_util import activation_qparams, quantize_array, symmetric_per_channel  # noqa: E402
from edgenn.validate import cosine  # noqa: E402

from zoo import models as zoo  # noqa: E402

NOISE_DB = 60.0


def outputs(g: Graph, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """All outputs of the float graph, (N, everything) float64."""
    res = run_graph(g, feeds)
    n = len(next(iter(feeds.values())))
    return np.concatenate([res[o].reshape(n, -1).astype(np.float64) for o in g.output_names], axis=1)


def round_input(x: np.ndarray, calib: np.ndarray) -> np.ndarray:
    """``x`` rounded to the int8 grid of ``calib``'s range (the converter's input parameters), as float."""
    q, _ = activation_qparams(float(calib.min()), float(calib.max()))
    return ((quantize_array(x, q).astype(np.float64) - q.zp) * q.s).astype(np.float32)


def round_weights(g: Graph) -> None:
    """Replace every float weight by its symmetric per-channel int8 rounding (in place)."""
    for op in g.ops:
        if not is_weighted(op.type) or len(op.inputs) < 2:
            continue
        w = g.tensors[op.inputs[1]]
        if w.data is None or w.dtype != "float32":
            continue
        axis = traits(op.type).weight_axis
        q, qp = symmetric_per_channel(w.data, axis)
        shape = [1] * w.data.ndim
        shape[axis] = -1
        w.data = (q.astype(np.float64) * qp.scale.astype(np.float64).reshape(shape)).astype(np.float32)


def measure(name: str, opset: int = 13) -> dict[str, float]:
    """The three numbers of the module docstring for one zoo model."""
    with tempfile.TemporaryDirectory() as d:
        path = zoo.materialize(zoo.fixtures()[name][opset], Path(d))
        calib, test = zoo.inputs(path)
        return measure_model(path, calib, test)


def measure_model(path: Path, calib: np.ndarray, test: np.ndarray,
                  input_shapes: dict[str, tuple[int, ...]] | None = None) -> dict[str, float]:
    """The three numbers of the module docstring for any single-input float ONNX model."""
    g, _ = import_onnx(path, input_shapes=input_shapes)
    simplify(g)
    (k, x), = graph_feeds(g, [test], "test images").items()
    (_, c), = graph_feeds(g, [calib]).items()
    ref = outputs(g, {k: x})
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(x.shape).astype(np.float32) * float(x.std()) * 10 ** (-NOISE_DB / 20)
    err = outputs(g, {k: x + noise}) - ref
    res = {"input only": cosine(ref, outputs(g, {k: round_input(x, c)})),
           "noise gain": NOISE_DB + 20 * float(np.log10(np.linalg.norm(err) / np.linalg.norm(ref)))}
    round_weights(g)
    res["weights only"] = cosine(ref, outputs(g, {k: x}))
    return res


def main(names: list[str]) -> None:
    print("| model | input only | weights only | noise gain (dB) |")
    print("|---|---|---|---|")
    for name in names or sorted(zoo.fixtures()):
        r = measure(name)
        print(f"| {name} | {r['input only']:.4f} | {r['weights only']:.4f} | {r['noise gain']:.1f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
