"""Transformer models: RAM, flash, accuracy and instructions per inference on the Cortex-M4 and M55.

- digits_transformer: examples/digits_transformer (a float ONNX model from PyTorch, 2 encoder
  layers), converted with its calibration data; int8 and float accuracy on its 360 test rows;
- keras transformer block: tests/data/tflite/transformer_int8.tflite (TF's converter, full int8),
  imported as it is, with TFLM's smallest arena (bisection over the tflite-micro package) beside
  edgenn's.

Instructions come from edgenn's QEMU plugin (3 samples, outputs checked byte for byte against
runtime_py); flash and whole RAM from the library built for the Cortex-M4 at -O2. For the Keras block,
TFLM's own instructions on the same cores and inputs: TFLM built by bench/tflm_cortexm/build.py
(reference kernels on the M4, CMSIS-NN on the M4 and M55), counted by the same plugin around each
Invoke(), outputs checked against the tflite-micro package byte for byte.

Usage: python bench/transformers.py [--no-tflm] [--no-tflm-cortexm] [--write]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ROOT, TFLM_CORTEXM_HEADERS, flash_bytes, md_table, tflm_cortexm_cells,  # noqa: E402
                    tflm_min_arena, write_section)

BOARDS = {"mps2-an386": "M4", "mps3-an547": "M55"}
KERAS = ROOT / "tests" / "data" / "tflite" / "transformer_int8.tflite"
EXAMPLE = ROOT / "examples" / "digits_transformer"


def models():
    """(label, model, source bytes label, TFLM path or None, accuracy text)."""
    from edgenn.converter.pipeline import ConvertOptions, convert
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.validate import validate

    m = convert(EXAMPLE / "model.onnx", [np.load(EXAMPLE / "calib.npy")],
                ConvertOptions(name="digits_transformer", progress=False))
    rep = validate(EXAMPLE / "model.onnx", m, [np.load(EXAMPLE / "test_x.npy")], np.load(EXAMPLE / "test_y.npy"),
                   ["python"], progress=False)
    acc = f"{rep['backends']['python']['accuracy']:.4f} (float {rep['float_accuracy']:.4f})"
    yield ("digits_transformer (ONNX, 2 layers)", m, f"{(EXAMPLE / 'model.onnx').stat().st_size:,} (float ONNX)",
           None, acc)
    k = convert_tflite_bytes(KERAS.read_bytes(), "keras_transformer", str(KERAS))
    yield "Keras transformer block (.tflite)", k, f"{KERAS.stat().st_size:,}", KERAS, "-"


def main() -> int:
    from edgenn.emulation import backends
    from edgenn.emulation.profile import default_inputs, profile
    from edgenn.fit import fit_report

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-tflm", action="store_true", help="skip the TFLM arena bisection")
    ap.add_argument("--no-tflm-cortexm", action="store_true",
                    help="skip TFLM's instruction counts (building TFLM for the cores takes ~30 min the first time)")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    rows, op_rows, exact = [], {}, True
    for label, m, src, tflm_path, acc in models():
        tflm = tflm_min_arena(tflm_path) if tflm_path is not None and not args.no_tflm else None
        fit = fit_report(m, "mps2-an386")
        size = flash_bytes(m)
        xs = default_inputs(m, 3)
        want = backends.run(m, xs, "python")
        counts = {}
        for board, short in BOARDS.items():
            p = profile(m, xs, board)
            exact &= all(a.tobytes() == b.tobytes() for a, b in zip(want, p.pop("outputs")))
            counts[short] = p
            for layer in p["layers"]:
                d = op_rows.setdefault(layer["op"], {}).setdefault(short, [0, 0])
                d[0] += layer["instructions"]
                d[1] += layer["macs"]
        macs = counts["M4"]["macs"]
        tflm_counts = ["-"] * len(TFLM_CORTEXM_HEADERS)
        if tflm_path is not None and not args.no_tflm_cortexm:
            tflm_counts, same = tflm_cortexm_cells(tflm_path, m, xs, macs, lambda n, per_mac: f"{n:,} ({per_mac:.1f})")
            exact &= same
        rows.append([label, f"{macs:,}", f"{len(m.ops)}", f"{m.arena_bytes:,}", f"{tflm:,}" if tflm else "-",
                     f"{int(m.plan['lower_bound_bytes']):,}", f"{fit['libraries'][0]['ram']:,} ({fit['stack_bytes']:,})",
                     f"{size['flash']:,}", f"{sum(t.nbytes for t in m.tensors if t.is_const):,}", src,
                     *(f"{counts[s]['instructions']:,} ({counts[s]['instructions_per_mac']:.1f})" for s in BOARDS.values()),
                     *tflm_counts, acc])
        print(f"{label}: {rows[-1]}", file=sys.stderr)
    table = md_table(["model", "MACs", "layers", "edgenn arena B", "TFLM arena B (measured)", "layer-wise bound B",
                      "whole RAM on M4 B (of which stack)", "flash B (M4, -O2)", "of which weights B", "source B",
                      "M4 instructions (per MAC)", "M55 instructions (per MAC)", *TFLM_CORTEXM_HEADERS,
                      "int8 accuracy"], rows)
    ops = md_table(["op", "M4 instructions (share of MACs)", "M55 instructions"],
                   [[op, f"{v['M4'][0]:,}" + (f" ({v['M4'][0] / v['M4'][1]:.2f}/MAC)" if v["M4"][1] else ""),
                     f"{v['M55'][0]:,}" + (f" ({v['M55'][0] / v['M55'][1]:.2f}/MAC)" if v["M55"][1] else "")]
                    for op, v in sorted(op_rows.items(), key=lambda kv: -kv[1]["M4"][0])])
    text = ("### Transformers\n\n`python bench/transformers.py --write`. " + table + "\n\n"
            "Per inference; outputs byte-identical across runtime_py, the host C and both emulated cores"
            + (" (checked)" if exact else " (MISMATCH)") + "; the Keras block is also byte-identical to TFLM "
            "(tests/test_tflite_models.py). Arena and bound as in the memory section; the TFLM arena is the "
            "smallest the tflite-micro package accepts. TFLM's instructions: TFLM (commit 90b983c) built for the same "
            "cores by bench/tflm_cortexm/build.py (arm-none-eabi-gcc 12 at -O2; reference kernels, or CMSIS-NN "
            "4ab83cc's in place of those it has), on the same 3 inputs, counted by the same plugin around each "
            "Invoke(), outputs byte-identical to the tflite-micro package. edgenn's instructions by operator type "
            "over both models:\n\n" + ops)
    text = text.replace("`python bench/transformers.py --write`. |", "`python bench/transformers.py --write`.\n\n|")
    print(text)
    if args.write:
        write_section("transformers", text)
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
