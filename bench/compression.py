"""Pruning, clustering and compression on the digits and DS-CNN examples (and lossless
compression on the MLPerf Tiny KWS model): MACs, flash, RAM, accuracy and Cortex-M4 instructions,
before and after.

- MACs, weights (as stored) and arena come from the .enn (`edgenn analyze`);
- flash: text + data of the generated library built for the Cortex-M4 (mps2-an386) at -O2
  (arm-none-eabi-size): weights, parameters and kernels, the Huffman/palette decoder included;
- accuracy: int8 model in runtime_py (bit-exact with every backend) on the example's 360 labelled
  test images; "agree" is top-1 agreement with the float model;
- instructions: per inference on the emulated Cortex-M4 (QEMU TCG plugin), weight decoding included.

Usage: python bench/compression.py [--write] [--no-instructions]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, flash_bytes, md_table, write_section  # noqa: E402

from edgenn.analysis import analyze  # noqa: E402
from edgenn.converter.pipeline import ConvertOptions, convert  # noqa: E402
from edgenn.converter.shrink.transforms import parse_prune  # noqa: E402

CONFIGS = [
    ("int8 baseline", {}),
    ("structured 30 %", {"prune": ("structured:0.3",)}),
    ("structured 50 %", {"prune": ("structured:0.5",)}),
    ("unstructured 50 % + compress", {"prune": ("unstructured:0.5",), "compress": "auto"}),
    ("unstructured 70 % + compress", {"prune": ("unstructured:0.7",), "compress": "auto"}),
    ("cluster 16 (palette)", {"cluster": 16}),
    ("cluster 256 + compress", {"cluster": 256, "compress": "auto"}),
    ("structured 30 % + compress", {"prune": ("structured:0.3",), "compress": "auto"}),
    ("structured 30 % + unstructured 50 % + compress", {"prune": ("structured:0.3", "unstructured:0.5"),
                                                        "compress": "auto"}),
]


def measure(m, x: np.ndarray | None, y: np.ndarray | None, ref_top1: np.ndarray | None, instructions: bool) -> dict:
    from edgenn.emulation import backends as be
    from edgenn.runtime_py import dataio
    from edgenn.validate import top1

    a = analyze(m)
    row = {"macs": a["macs"], "weights": a["weights_bytes"], "arena": a["arena_bytes"],
           "flash": flash_bytes(m)["flash"]}
    if x is not None:
        xi = dataio.to_internal(m, [x])
        pred = top1(dataio.from_internal(m, be.run(m, xi, "python"), as_float=True)[0])
        if y is not None:
            row["accuracy"] = float(np.mean(pred == y))
        if ref_top1 is not None:
            row["agree"] = float(np.mean(pred == ref_top1))
    if instructions:
        from edgenn.emulation.profile import profile

        xi = dataio.to_internal(m, [x[:2]]) if x is not None else \
            [np.random.default_rng(0).integers(-128, 128, (2, *m.tensors[d.tensor].shape), dtype=np.int8)
             for d in m.inputs]
        row["instructions"] = profile(m, xi, "mps2-an386", layers=False)["instructions"]
    return row


def example_rows(name: str, instructions: bool) -> list[list]:
    from edgenn.converter.calibrate import run_float
    from edgenn.validate import top1
    import onnx

    d = ROOT / "examples" / name
    calib, x, y = np.load(d / "calib.npy"), np.load(d / "test_x.npy"), np.load(d / "test_y.npy")
    model = onnx.load(str(d / "model.onnx"))
    out = model.graph.output[0].name
    ref = np.stack(run_float(model, {model.graph.input[0].name: x[:, None]}, [out])[out]).reshape(len(x), -1)
    float_acc = float(np.mean(top1(ref) == y))
    rows, base = [], None
    for label, cfg in CONFIGS:
        opts = ConvertOptions(name=name, progress=False, prune=tuple(parse_prune(p) for p in cfg.get("prune", ())),
                              cluster=cfg.get("cluster"), compress=cfg.get("compress"))
        t0 = time.perf_counter()
        m = convert(d / "model.onnx", [calib], opts)
        secs = time.perf_counter() - t0
        r = measure(m, x, y, top1(ref), instructions)
        base = base or r
        pct = lambda k: f"{r[k]:,} ({r[k] / base[k] - 1:+.0%})" if r is not base else f"{r[k]:,}"  # noqa: E731
        rows.append([name, label, pct("macs"), pct("weights"), pct("flash"), pct("arena"),
                     f"{r['accuracy']:.4f} ({r['accuracy'] - float_acc:+.4f})", f"{r['agree']:.4f}",
                     pct("instructions") if instructions else "-", f"{secs:.1f}"])
        print(" | ".join(map(str, rows[-1])), file=sys.stderr)
    return rows, float_acc


def kws_rows(instructions: bool) -> list[list]:
    rows, base = [], None
    path = ROOT / "tests" / "data" / "mlperf_tiny" / "kws_ref_model.tflite"
    for label, compress in (("as imported", None), ("compress huffman", "huffman"), ("compress auto", "auto")):
        m = convert(path, None, ConvertOptions(name="kws", progress=False, compress=compress))
        r = measure(m, None, None, None, instructions)
        base = base or r
        pct = lambda k: f"{r[k]:,} ({r[k] / base[k] - 1:+.0%})" if r is not base else f"{r[k]:,}"  # noqa: E731
        rows.append(["KWS (MLPerf int8)", label, pct("macs"), pct("weights"), pct("flash"), pct("arena"), "-", "-",
                     pct("instructions") if instructions else "-", "-"])
        print(" | ".join(map(str, rows[-1])), file=sys.stderr)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--no-instructions", action="store_true", help="skip the QEMU instruction counts")
    args = ap.parse_args()
    instr = not args.no_instructions
    rows, notes = [], []
    for name in ("digits", "dscnn"):
        r, fa = example_rows(name, instr)
        rows += r
        notes.append(f"{name} float accuracy {fa:.4f}")
    rows += kws_rows(instr)
    headers = ["model", "transform", "MACs", "weights B", "flash B (M4)", "arena B", "int8 accuracy (vs float)",
               "agree", "M4 instructions", "convert s"]
    text = ("### Pruning, clustering and compression\n\n"
            "`python bench/compression.py --write`. Accuracy on the 360 labelled test images (runtime_py, "
            "bit-exact with host C and QEMU); " + "; ".join(notes) + ". Flash = weights, parameters and kernels "
            "of the library built for the Cortex-M4 (-O2); arena includes the buffers compressed weights are "
            "decoded into; instructions per inference on the emulated Cortex-M4, decoding included.\n\n"
            + md_table(headers, rows))
    print(text)
    if args.write:
        write_section("compression", text)


if __name__ == "__main__":
    main()
