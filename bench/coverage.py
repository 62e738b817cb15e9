"""Operator coverage on real architectures (issue 11): which models convert, whether they are
bit-exact, and what they cost, next to TFLM's arena where TFLM can run the model.

    python bench/coverage.py [--no-tflm] [--no-light] [--write]

Models: the ONNX zoo (tests/zoo/onnx, PyTorch exports at opset 13; tests/test_zoo_onnx.py), its
Keras half (tests/zoo/tflite, full-int8 .tflite from TensorFlow's converter; judged against TFLM
too) and the classic models of ONNX's own test data (onnx/backend/test/data/light, shipped in the
onnx wheel; their weights are constants, so no cosine). "exact" compares runtime_py, host C and
the Cortex-M4 firmware in QEMU (mps2-an386) byte for byte on two inputs (the board only when the
model fits its 4 MB of flash and 4 MB of RAM; larger models run on the Python reference only, their C
taking minutes to compile); for the .tflite models TFLM's package too. Flash is
the generated library for the Cortex-M4 at -O2; M4 instructions are QEMU plugin counts for one
inference. TFLM's arena is the smallest arena_size its Python package accepts.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, flash_bytes, md_table, tflm_min_arena, write_section  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
BOARD = "mps2-an386"
BOARD_BYTES = 4 << 20  # its flash and its RAM


def sources(light: bool):
    """(group, label, path, calibration and test inputs or None for a .tflite)."""
    from zoo import models as zoo

    for name, by_opset in sorted(zoo.fixtures().items()):
        yield "PyTorch (ONNX opset 13)", name, by_opset[13], None
    for p in sorted(zoo.TFLITE_DIR.glob("*.tflite")):
        yield "Keras (TFLite int8)", p.stem, p, None
    if light:
        for p in zoo.light_models():
            yield "ONNX test data (light)", p.stem.removeprefix("light_"), p, None


def measure(group: str, name: str, path: Path, tmp: Path, with_tflm: bool) -> list:
    from edgenn.converter.pipeline import ConvertOptions, convert
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.emulation import backends
    from edgenn.emulation.profile import default_inputs, profile
    from edgenn.emulation.tflm import run_tflm_file
    from edgenn.runtime_py import dataio
    from edgenn.validate import validate
    from zoo import models as zoo

    t0 = time.monotonic()
    cos = tflm_arena = "-"
    try:
        if path.suffix == ".tflite":
            m = convert_tflite_bytes(path.read_bytes(), name, str(path))
            xs = default_inputs(m, 2)
        elif group.startswith("PyTorch"):
            src, m = zoo.convert_fixture(path, tmp)
            _, test = zoo.inputs(src)
            xs = dataio.to_internal(m, [test[:2]])
            cos = f"{validate(src, m, [test], None, ['python'], progress=False)['backends']['python']['cosine']:.4f}"
        else:
            x = zoo.light_input(path, 3)
            m = convert(path, [x[:2]], ConvertOptions(progress=False))
            xs = dataio.to_internal(m, [x[2:]])
    except Exception as e:  # noqa: BLE001 - the table reports the refusal
        return [group, name, "-", f"no: {str(e).splitlines()[0][:80]}", "-", "-", "-", "-", "-", "-", "-"]
    ops = sorted({op.type for op in m.ops})
    want = backends.run(m, xs, "python")
    weights = sum(t.data.nbytes for t in m.tensors if t.data is not None)
    fits = weights < BOARD_BYTES and m.arena_bytes < BOARD_BYTES
    # beyond a board's size the generated C takes minutes to compile: Python reference only
    exact = not fits or all(np.array_equal(a, b) for a, b in zip(backends.run(m, xs, "host"), want))
    flash = instr = "-"
    if fits:
        size = flash_bytes(m)
        fits = size["flash"] <= BOARD_BYTES
        flash = f"{size['flash']:,}"
    if fits:
        p = profile(m, [x[:1] for x in xs], BOARD)
        exact &= all(np.array_equal(a, b[:1]) for a, b in zip(p.pop("outputs"), want))
        instr = f"{p['instructions'] / 1e6:,.1f} M"
    where = f"python = host = {BOARD}" if fits else "python only: too big for any board here"
    if path.suffix == ".tflite":
        exact &= all(np.array_equal(a, b) for a, b in zip(run_tflm_file(path, m, xs), want))
        where += " = TFLM"
        if with_tflm:
            tflm_arena = f"{tflm_min_arena(path):,}"
    print(f"{name}: {len(m.ops)} ops, arena {m.arena_bytes}, {time.monotonic() - t0:.0f} s", file=sys.stderr)
    return [group, name, f"{len(m.ops)}: {', '.join(ops)}", "yes", f"{'yes' if exact else 'NO'} ({where})", cos,
            f"{m.arena_bytes:,}", tflm_arena, f"{weights:,}", flash, instr]


def main() -> int:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-tflm", action="store_true", help="skip the TFLM arena bisection")
    ap.add_argument("--no-light", action="store_true", help="skip ONNX's light models (224x224, large)")
    ap.add_argument("--write", action="store_true", help="update the coverage section of docs/benchmarks.md")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (group, name, path, _) in enumerate(sources(not args.no_light)):
            d = Path(tmp) / str(i)
            d.mkdir()
            rows.append(measure(group, name, path, d, not args.no_tflm))
    text = "### Coverage: real architectures\n\n" + md_table(
        ["source", "model", "int8 operators", "converted", "bit-exact", "cosine vs float", "edgenn arena B",
         "TFLM arena B", "weights B", f"flash B ({BOARD})", "M4 instructions"], rows) + "\n\n" + __doc__.split(
        "\n\n", 2)[2].replace("\n", " ").strip()
    print(text)
    if args.write:
        write_section("coverage", text)
    return 0 if all(r[3] == "yes" and r[4].startswith("yes") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
