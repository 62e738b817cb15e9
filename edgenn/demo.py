"""`make demo`: convert the bundled digits example, run it on every backend, print the report."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from edgenn.analysis import analyze
from edgenn.boards import get_board
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.errors import EdgennError
from edgenn.fit import fit_report
from edgenn.format import enn
from edgenn.runtime_py import dataio
from edgenn.validate import validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "digits"


def main(out_dir: str = "build") -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    board = get_board("mps2-an386")
    calib = np.load(EXAMPLE / "calib.npy")
    test_x = np.load(EXAMPLE / "test_x.npy")
    test_y = np.load(EXAMPLE / "test_y.npy")

    t0 = time.perf_counter()
    model = convert(EXAMPLE / "model.onnx", [calib], ConvertOptions(name="digits", progress=False))
    enn.save(model, out / "digits.enn")
    t_convert = time.perf_counter() - t0
    model = enn.load(out / "digits.enn")
    a = analyze(model)
    print(f"converted examples/digits/model.onnx -> {out / 'digits.enn'} in {t_convert:.2f} s: "
          f"{len(model.ops)} layers, {a['macs']:,} MACs")

    fit = fit_report(model, board)
    rep = validate(EXAMPLE / "model.onnx", model, [test_x], test_y, ["python", "host", "qemu"], board.name,
                   progress=False)
    print(f"test set: {rep['samples']} images of examples/digits")
    print(f"  float model (onnxruntime) accuracy: {rep['float_accuracy']:.4f}")
    for name, b in rep["backends"].items():
        where = {"python": "Python reference", "host": "host C (gcc)", "qemu": f"Cortex-M4 under QEMU ({board.name})"}[name]
        print(f"  int8 {where:36s} accuracy {b['accuracy']:.4f}, mismatched bytes vs Python: {b['mismatched_bytes']}")
    print(f"  int8 vs float: top-1 agreement {rep['backends']['python']['top1_agreement']:.4f}, "
          f"cosine {rep['backends']['python']['cosine']:.5f}")
    lib = fit["libraries"][0]
    print(f"memory on {board.name} ({fit['method'].split(' (')[0]}): the library needs RAM {lib['ram']:,} B = arena "
          f"{model.arena_bytes:,} B (layer-wise bound {a['arena_lower_bound_bytes']:,} B) + other static data + stack "
          f"{lib['stack_bytes']:,} B, flash {lib['flash']:,} B (weights {a['weights_bytes']:,} B, parameters "
          f"{a['params_bytes']:,} B, code); its test firmware RAM {fit['ram_used']:,} B (stack reserved "
          f"{fit['firmware']['stack_reserved']:,} B), flash {fit['flash_used']:,} B")
    try:
        from edgenn.emulation.profile import profile

        prof = profile(model, dataio.to_internal(model, [test_x[:4]]), board, layers=False)
        print(f"speed on {board.name} ({board.core}, QEMU instruction count): {prof['instructions']:,} instructions "
              f"per inference, {prof['instructions_per_mac']:.2f} per MAC")
    except EdgennError as e:  # the counting plugin needs qemu-plugin.h (make setup fetches it)
        print(f"speed: instruction count unavailable ({e})")
    ok = rep["bit_exact"]
    print("all backends agree byte for byte" if ok else "MISMATCH between backends")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
