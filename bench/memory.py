"""RAM and flash of the four MLPerf Tiny models (and the digits example): edgenn vs TFLM.

- edgenn arena: the planned arena in the .enn file (activations + scratch, nothing else);
- TFLM arena: the smallest arena_size the `tflite-micro` package accepts, found by bisection
  (each probe in a child process: the wrapper crashes on tiny arenas);
- flash: text + data of the generated library (weights, parameters, kernels) built for the
  Cortex-M4 (mps2-an386) at -O2, from arm-none-eabi-size; vs the .tflite file size.

Usage: python bench/memory.py [--no-tflm] [--write]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edgenn.boards import get_board, optimized_for  # noqa: E402
from edgenn.codegen.dsp_filters import pair_filters  # noqa: E402
from edgenn.fit import fit_report  # noqa: E402
from common import (LOWER_BOUND, MLPERF, MLPERF_DIR, ROOT, TFLM_M4_FLASH_REF, convert_mlperf,  # noqa: E402
                    md_table, tflm_min_arena, write_section)


SIZE_BOARD = optimized_for(get_board("mps2-an386"), "size")


def pair_filter_bytes(m) -> int:
    """Flash of the pre-extended filters of the -O2 Cortex-M4 build (codegen/dsp_filters.py)."""
    return sum(w.nbytes for w in pair_filters(m, get_board("mps2-an386")).values())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-tflm", action="store_true", help="skip the (slow) TFLM arena bisection")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    rows = []
    frows = []
    for key, fname in MLPERF.items():
        m = convert_mlperf(key)
        tflm = tflm_min_arena(MLPERF_DIR / fname) if not args.no_tflm else None
        lb = LOWER_BOUND[key]
        fit = fit_report(m, "mps2-an386")
        rows.append([key, f"{m.arena_bytes:,}", f"{tflm:,}" if tflm else "-", f"{lb:,}",
                     f"{m.arena_bytes / tflm:.2f}" if tflm else "-", f"{m.arena_bytes / lb:.2f}",
                     f"{fit['libraries'][0]['ram']:,} ({fit['stack_bytes']:,})", m.plan["planner"]])
        size = fit["libraries"][0]
        weights = sum(t.nbytes for t in m.tensors if t.is_const)
        tfl = (MLPERF_DIR / fname).stat().st_size
        small = fit_report(m, SIZE_BOARD)["libraries"][0]["flash"]
        wx = pair_filter_bytes(m)
        frows.append([key, f"{size['flash']:,}", f"{weights:,}", f"{wx:,}", f"{size['flash'] - weights - wx:,}",
                      f"{small - weights:,}", f"{tfl:,}", f"{TFLM_M4_FLASH_REF[key]:,}"])
        print(f"{key}: arena {m.arena_bytes} (TFLM {tflm}, bound {lb}), flash {size['flash']}", file=sys.stderr)
    # The bundled example (a float ONNX model: no TFLM arena to compare with).
    from edgenn.converter.pipeline import ConvertOptions, convert

    ex = ROOT / "examples" / "digits"
    m = convert(ex / "model.onnx", [np.load(ex / "calib.npy")], ConvertOptions(name="digits", progress=False))
    lb = int(m.plan["lower_bound_bytes"])
    fit = fit_report(m, "mps2-an386")
    rows.append(["digits (example)", f"{m.arena_bytes:,}", "-", f"{lb:,}", "-", f"{m.arena_bytes / lb:.2f}",
                 f"{fit['libraries'][0]['ram']:,} ({fit['stack_bytes']:,})", m.plan["planner"]])
    size = fit["libraries"][0]
    weights = sum(t.nbytes for t in m.tensors if t.is_const)
    small = fit_report(m, SIZE_BOARD)["libraries"][0]["flash"]
    wx = pair_filter_bytes(m)
    frows.append(["digits (example)", f"{size['flash']:,}", f"{weights:,}", f"{wx:,}",
                  f"{size['flash'] - weights - wx:,}", f"{small - weights:,}", f"{(ex / 'model.onnx').stat().st_size:,} (float ONNX)", "-"])
    ram = md_table(["model", "edgenn arena B", "TFLM arena B (measured)", "layer-wise bound B", "edgenn/TFLM",
                    "edgenn/bound", "edgenn whole RAM on M4 B (of which stack)", "plan"], rows)
    flash = md_table(["model", "edgenn flash B (M4, -O2)", "of which weights+bias B",
                      "of which pre-extended filters B", "code+params B",
                      "code+params B (`--optimize size`, -Os)", ".tflite B",
                      "TFLM firmware flash B (ref kernels, -Os, README)"], frows)
    text = ("### RAM: arena bytes\n\n" + ram + "\n\nThe TFLM arena is the smallest `arena_size` its Python "
            "package accepts (bisection, 16-byte steps); it includes TFLM's persistent interpreter data. "
            "edgenn's arena is all the working memory the generated code needs besides its stack; the "
            "whole-RAM column adds the library's other static data and the deepest stack of `<name>_invoke` "
            "(gcc -fcallgraph-info, checked against the painted stack in QEMU), for the Cortex-M4 build.\n\n"
            "### Flash bytes\n\n" + flash + "\n\nedgenn flash = text + data of the generated model library "
            "(weights, biases, per-layer parameters and the kernels the model uses) for the Cortex-M4 at -O2 "
            "(`--optimize speed`, the default); code+params is that minus the weight and bias bytes and minus "
            "the conv2d and fully_connected filters stored again as int16 pairs for the DSP build's loops "
            "(codegen/dsp_filters.py: speed builds on DSP microcontrollers, as many layers as fit in half "
            "the board's flash; none at -Os), also "
            "for `--optimize size` (-Os: the compiler chooses what to inline, and conv2d computes one pixel "
            "at a time instead of two; per-channel shifts are a byte each in both). The TFLM column is a "
            "whole firmware (interpreter, kernels, model) from the README, for scale.")
    print(text)
    if args.write:
        write_section("memory", text)


if __name__ == "__main__":
    main()
