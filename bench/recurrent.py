"""The recurrent models: RAM, flash and instructions per inference on the emulated Cortex-M4 and
Cortex-M55, next to TFLM.

    python bench/recurrent.py [--no-tflm] [--no-tflm-cortexm] [--write]

Models: the Keras LSTM and TFLM's own mnist LSTM and keyword SVDF models (tests/data/tflite), and
examples/digits_gru (GRU and LSTM, whole sequence and streamed one row per call). Instruction counts
come from the QEMU plugin (emulation/profile.py) on random inputs, after checking the board's outputs
against runtime_py byte for byte; for the .tflite models runtime_py equals TFLM (the `tflite-micro`
package) on those inputs too (checked here). The TFLM arena is the smallest arena_size its Python
package accepts (bench/memory.py's bisection). TFLM's own instruction counts come from TFLM built
for the same emulated cores by bench/tflm_cortexm/build.py (reference kernels on the M4, CMSIS-NN on
the M4 and M55), counted by the same plugin between the same markers around each Invoke(), on the
same inputs (one stream), with outputs byte-identical to the tflite-micro package (checked here).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ROOT, STATE_NOT_KEPT, TFLM_CORTEXM_HEADERS, flash_bytes, md_table,  # noqa: E402
                    tflm_cortexm_cells, tflm_min_arena, write_section)

TFLITE = ROOT / "tests" / "data" / "tflite"
EXAMPLE = ROOT / "examples" / "digits_gru"
BOARDS = ("mps2-an386", "mps3-an547")


def models():
    """(label, model, .tflite path or None, source bytes)."""
    from edgenn.converter.pipeline import ConvertOptions, convert
    from edgenn.converter.tflite_import import convert_tflite_bytes

    for label, name in (("Keras LSTM (2 layers, 10 steps)", "lstm_int8"),
                        ("TFLM mnist LSTM (28 steps)", "tflm_mnist_lstm_int8"),
                        ("TFLM keyword SVDF (1 frame)", "tflm_keyword_svdf")):
        p = TFLITE / f"{name}.tflite"
        yield label, convert_tflite_bytes(p.read_bytes(), name, str(p)), p, p.stat().st_size
    calib = [np.load(EXAMPLE / "calib.npy")]
    for label, f, opts in (("digits GRU (8 steps)", "model.onnx", {}),
                           ("digits GRU streamed (1 step/call)", "model.onnx",
                            {"stateful": True, "input_shapes": {"rows": (1, 1, 8)}}),
                           ("digits LSTM (8 steps)", "lstm.onnx", {})):
        m = convert(EXAMPLE / f, calib, ConvertOptions(name="digits_rnn", progress=False, **opts))
        yield label, m, None, (EXAMPLE / f).stat().st_size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-tflm", action="store_true", help="skip the TFLM arena bisection")
    ap.add_argument("--no-tflm-cortexm", action="store_true",
                    help="skip TFLM's instruction counts (building TFLM for the cores takes ~30 min the first time)")
    ap.add_argument("--write", action="store_true", help="update the recurrent section of docs/benchmarks.md")
    args = ap.parse_args()
    from edgenn.emulation import backends
    from edgenn.emulation.profile import default_inputs, profile
    from edgenn.emulation.tflm import run_tflm_file

    rows, ok = [], True
    for label, m, path, src_bytes in models():
        xs = default_inputs(m, 3)
        want = backends.run(m, xs, "python")
        tflm_same = "-"
        if path is not None:
            tflm_same = "yes" if all(np.array_equal(a, b) for a, b in zip(run_tflm_file(path, m, xs), want)) else "NO"
            ok &= tflm_same == "yes"
        counts = []
        for board in BOARDS:
            p = profile(m, xs, board)
            exact = all(np.array_equal(a, b) for a, b in zip(want, p.pop("outputs")))
            ok &= exact
            counts.append(f"{p['instructions'] / 1e3:,.1f} k ({p['instructions_per_mac']:.2f})" +
                          ("" if exact else " NOT BIT-EXACT"))
        state = sum(t.nbytes for t in m.state_tensors)
        tflm_arena = tflm_min_arena(path) if path is not None and not args.no_tflm else None
        size = flash_bytes(m)
        macs = sum(op.macs for op in m.ops)
        tflm_counts = ["-"] * len(TFLM_CORTEXM_HEADERS)
        if path is not None and not args.no_tflm_cortexm:
            tflm_counts, same = tflm_cortexm_cells(path, m, xs, macs)
            ok &= same
        rows.append([label, f"{macs:,}", f"{m.arena_bytes:,} ({state:,})", f"{tflm_arena:,}" if tflm_arena else "-",
                     f"{size['flash']:,}", f"{src_bytes:,}", *counts, *tflm_counts, tflm_same])
        print(f"{label}: arena {m.arena_bytes} (state {state}), TFLM {tflm_arena}, flash {size['flash']}, "
              f"{counts}, TFLM {tflm_counts}", file=sys.stderr)
    text = md_table(["model", "MACs", "edgenn arena B (state)", "TFLM arena B (package)", "edgenn flash B (M4)",
                     "source B", "edgenn M4 instructions (per MAC)", "edgenn M55 instructions (per MAC)",
                     *TFLM_CORTEXM_HEADERS, "bytes == TFLM"], rows)
    state_note = (", except where marked \"state not kept\": TFLM's CMSIS-NN LSTM kernel (arm_lstm_unidirectional_s8) "
                  "starts every Invoke from a zero state and neither reads nor writes the model's variable state "
                  "tensors, so the state does not carry over from one Invoke to the next (its outputs equal the "
                  "package's reset before every sample; the counts are of the same work)"
                  if any(STATE_NOT_KEPT in c for r in rows for c in r) else "")
    text = "### Recurrent models\n\n" + text + "\n\n" + (
        "The Keras LSTM, TFLM's mnist LSTM and TFLM's keyword SVDF model are imported .tflite files (stateful, "
        "as TFLM: the three samples are one stream); the digits models are the ONNX example (stateless, one "
        "sequence per call; streamed: one row per call, state kept). edgenn's arena includes the state tensors "
        "(in parentheses) and the recurrent kernels' scratch; flash is the generated library for the "
        "Cortex-M4 at -O2 (weights, parameters, kernels). TFLM's arena is the smallest its Python package "
        "accepts, persistent data included. Instructions per inference are QEMU plugin counts (MACs: the "
        "layers' multiply-accumulates; the gate arithmetic of short sequences with few units is a large "
        "share of the total). TFLM's counts are TFLM (commit 90b983c) built for the same cores by "
        "bench/tflm_cortexm/build.py (arm-none-eabi-gcc 12 at -O2; reference kernels, or CMSIS-NN 4ab83cc's "
        "in place of those it has), run on the same inputs as one stream and counted by the same plugin around "
        "each Invoke(); their outputs are byte-identical to the tflite-micro package" + state_note + ". The "
        "bytes of edgenn are compared with TFLM's package on the host (last column) and on the M4 in "
        "tests/test_tflite_models.py.")
    print(text)
    if args.write:
        write_section("recurrent", text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
