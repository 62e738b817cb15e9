"""Conversion time against the number of layers.

- synthetic graphs built with onnx.helper (bench/synthetic.py): chains of 3x3 convolutions and
  DenseNet-style graphs (every dense layer concatenates all earlier feature maps of its block) of
  about 100, 500, 1,000 and 2,000 converted layers, 8x8 images, 8 calibration samples;
- torchvision models (random initialisation, torch.onnx.export(dynamo=False), opset 17, dynamic
  batch axis as dynamic_axes makes it): densenet121, regnet_y_400mf, regnet_x_400mf,
  mobilenet_v2, efficientnet_b0 with 32 seeded random calibration images. They are read from
  --models-dir (files named <model>.onnx) or exported here by a Python that has torch and
  torchvision (--export-with PYTHON, default this one if it can import torchvision), and skipped
  otherwise.

Each conversion runs in a fresh process: the synthetic ones in-process timings of the whole
conversion and of the memory planning alone (lower.plan_graph); the torchvision ones as the
`edgenn convert` command a user runs (wall clock, interpreter start included).

Usage: python bench/conversion.py [--write] [--models-dir DIR] [--export-with PYTHON] [--sizes 100,500,1000,2000]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import md_table, write_section  # noqa: E402

TORCHVISION = ("densenet121", "regnet_y_400mf", "regnet_x_400mf", "mobilenet_v2", "efficientnet_b0")
CALIB_IMAGES = 32

# One synthetic conversion in a fresh interpreter: total seconds and the planner's share.
CHILD = r"""
import json, sys, time, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
import numpy as np
from edgenn.converter import lower
from edgenn.converter.pipeline import ConvertOptions, convert
spent = []
plan_graph = lower.plan_graph
def timed(g):
    t = time.process_time()
    try:
        return plan_graph(g)
    finally:
        spent.append(time.process_time() - t)
lower.plan_graph = timed
calib = np.load(sys.argv[3])
t, w = time.process_time(), time.perf_counter()
m = convert(sys.argv[2], [calib], ConvertOptions(progress=False))
print(json.dumps({"seconds": time.process_time() - t, "wall": time.perf_counter() - w, "planning": sum(spent),
                  "layers": len(m.ops), "arena": m.arena_bytes}))
"""

EXPORT = r"""
import sys, torch, torchvision
torch.manual_seed(0)
m = getattr(torchvision.models, sys.argv[1])(weights=None).eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[2], dynamo=False, opset_version=17,
                  input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
"""


REAL_NOTE = (f"`edgenn convert model.onnx --calib calib.npy -o model.enn -q` with {CALIB_IMAGES} random 224x224 "
             "calibration images (the dynamic batch axis of the export is fixed to 1): CPU time of the process "
             "(single-threaded: the wall clock of an otherwise idle machine) and the wall clock measured, both "
             "including the interpreter's start. Before the planner's rework the same conversions took 197 s (densenet121) and "
             "38 s (regnet_y_400mf), almost all of it in the memory planner, for the same arenas (regnet_x "
             "501,824 B, regnet_y 752,720 B, mobilenet_v2 1,404,928 B, densenet121 2,007,040 B); efficientnet_b0 "
             "failed on a near-constant logistic input.")


def synthetic_rows(sizes: list[int], tmp: Path) -> tuple[list[list], dict]:
    import onnx

    import synthetic

    calib = tmp / "calib8.npy"
    np.save(calib, synthetic.calibration(8))
    rows, seconds = [], {}
    for kind in ("chain", "densenet"):
        for n in sizes:
            src = tmp / f"{kind}{n}.onnx"
            onnx.save(getattr(synthetic, kind)(n), src)
            r = subprocess.run([sys.executable, "-c", CHILD, str(Path(__file__).resolve().parent), str(src), str(calib)],
                               capture_output=True, text=True, timeout=3600)
            if r.returncode != 0:
                raise RuntimeError(r.stderr)
            res = json.loads(r.stdout.strip().splitlines()[-1])
            seconds[(kind, n)] = res["seconds"]
            label = "chain of 3x3 convolutions" if kind == "chain" else "DenseNet-style (blocks of 8)"
            rows.append([label, f"{res['layers']:,}", f"{res['seconds']:.2f}", f"{res['wall']:.2f}",
                         f"{res['planning']:.2f}", f"{res['seconds'] / res['layers'] * 1000:.2f}", f"{res['arena']:,}"])
            print(" | ".join(rows[-1]), file=sys.stderr)
    return rows, seconds


def torchvision_models(models_dir: Path | None, export_with: str | None, tmp: Path) -> dict[str, Path]:
    """The torchvision exports: from --models-dir, else exported by a Python with torchvision."""
    found: dict[str, Path] = {}
    for name in TORCHVISION:
        if models_dir is not None and (models_dir / f"{name}.onnx").exists():
            found[name] = models_dir / f"{name}.onnx"
    missing = [n for n in TORCHVISION if n not in found]
    python = export_with or sys.executable
    if missing and subprocess.run([python, "-c", "import torchvision"], capture_output=True).returncode != 0:
        print(f"skipping {', '.join(missing)}: not in --models-dir and {python} cannot import torchvision "
              "(give --export-with)", file=sys.stderr)
        return found
    for name in missing:
        out = tmp / f"{name}.onnx"
        subprocess.run([python, "-c", EXPORT, name, str(out)], check=True, capture_output=True, timeout=1800)
        found[name] = out
    return {n: found[n] for n in TORCHVISION if n in found}


def torchvision_rows(models: dict[str, Path], tmp: Path) -> list[list]:
    calib = tmp / "calib224.npy"
    np.save(calib, np.random.default_rng(0).normal(0, 1, (CALIB_IMAGES, 1, 3, 224, 224)).astype(np.float32))
    edgenn = [sys.executable, "-m", "edgenn"]
    rows = []
    for name, src in models.items():
        out = tmp / f"{name}.enn"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        r = subprocess.run(edgenn + ["convert", str(src), "--calib", str(calib), "-o", str(out), "-q"],
                           capture_output=True, text=True, timeout=3600)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        if r.returncode != 0:
            raise RuntimeError(f"{name}: {r.stderr}")
        a = json.loads(subprocess.run(edgenn + ["analyze", str(out), "--json"], capture_output=True, text=True,
                                      check=True).stdout)
        rows.append([name, f"{len(a['layers']):,}", f"{cpu:.1f}", f"{wall:.1f}", f"{a['arena_bytes']:,}", a["planner"]])
        print(" | ".join(rows[-1]), file=sys.stderr)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--models-dir", type=Path, help="directory with torchvision exports <model>.onnx")
    ap.add_argument("--export-with", help="a Python with torch and torchvision to export the models it lacks")
    ap.add_argument("--sizes", default="100,500,1000,2000", help="synthetic graph sizes in layers")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="edgenn-bench-") as d:
        tmp = Path(d)
        syn, seconds = synthetic_rows(sizes, tmp)
        loads.append(os.getloadavg()[0])
        real = torchvision_rows(torchvision_models(args.models_dir, args.export_with, tmp), tmp)
        loads.append(os.getloadavg()[0])
    text = "### Conversion time against the number of layers\n\n" + md_table(
        ["graph", "layers", "convert CPU s", "wall s", "of which memory planning CPU s", "CPU s per 1,000 layers",
         "arena B"], syn)
    ratios = [f"{kind} {a:,} -> {b:,} {seconds[(kind, b)] / seconds[(kind, a)]:.2f}x"
              for kind in ("chain", "densenet") for a, b in zip(sizes, sizes[1:]) if b == 2 * a]
    text += ("\n\nIn-process `convert()` of synthetic graphs (bench/synthetic.py, onnx.helper): import, folding, "
             "calibration on 8 samples, quantization, fixed-point parameters, memory planning (every candidate "
             "execution order screened, the best searched), plan checks. CPU time of the converting process (it "
             "runs on one core; the wall clock also counts other work on the shared machine). Doubling the layers "
             "multiplies the CPU time by " + ", ".join(ratios) + ".")
    if real:
        text += "\n\n### torchvision models\n\n" + md_table(
            ["model (random init, opset 17)", "layers", "`edgenn convert` CPU s", "wall s", "arena B", "plan"], real)
        text += "\n\n" + REAL_NOTE
    text += (f"\n\nMeasured on {os.cpu_count()} cores with a 1-minute load average of "
             f"{min(loads):.1f}-{max(loads):.1f} (other work on the machine) during the run.")
    print(text)
    if args.write:
        write_section("conversion", text)


if __name__ == "__main__":
    main()
