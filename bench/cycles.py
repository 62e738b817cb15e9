"""Estimated cycles and milliseconds of the MLPerf Tiny models on a Cortex-M4 at 120 MHz, beside
the published MLPerf Tiny latencies of the same models on the same core and clock.

    python bench/cycles.py [--board stm32l4r5zi] [--models kws,vww,ic,ad] [--write]

The board's firmware runs under QEMU (the NUCLEO-L4R5ZI is emulated by the MPS2 AN386 machine)
with edgenn's plugin counting instruction classes; emulation/cycles.py applies the Cortex-M4
TRM's instruction timings (zero wait states, pipeline refill P = 2). An estimate, not a
measurement: the published figures are measured on the board. Outputs are checked byte for byte
against runtime_py.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MLPERF, convert_mlperf, md_table, write_section  # noqa: E402

from edgenn.emulation.profile import default_inputs, profile  # noqa: E402
from edgenn.runtime_py.interpreter import Interpreter  # noqa: E402

#: MLPerf Tiny closed division, NUCLEO-L4R5ZI (Cortex-M4 at 120 MHz), ms per inference
#: (mlcommons/tiny_results_v1.x, closed/<org>/results/.../performance).
PUBLISHED_MS = {
    "STM32Cube.AI 9.0 (v1.2)": {"KWS": 43.2, "VWW": 88.9, "IC": 165.1, "AD": 5.26},
    "Plumerai (v1.1)": {"KWS": 47.8, "VWW": 98.8, "IC": 167.8, "AD": 4.05},
    "microTVM + CMSIS-NN (v1.0)": {"KWS": 99.8, "VWW": 301.2, "IC": 389.6, "AD": 8.60},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="stm32l4r5zi", help="a board with a clock and a Cortex-M3/M4 core")
    ap.add_argument("--models", default="kws,vww,ic,ad")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    rows, per_op = [], {}
    for key in [k.strip().upper() for k in args.models.split(",") if k.strip()]:
        if key not in MLPERF:
            ap.error(f"unknown model {key!r} (one of {', '.join(MLPERF)})")
        m = convert_mlperf(key)
        xs = default_inputs(m, 1)
        p = profile(m, xs, args.board)
        want = Interpreter(m).invoke(*xs)
        if any(w.tobytes() != g.tobytes() for w, g in zip(want, p["outputs"])):
            raise SystemExit(f"{key}: the firmware's outputs differ from runtime_py")
        if "estimated_cycles" not in p:
            raise SystemExit(f"{args.board} ({p['core']}) has no timing table (emulation/cycles.py)")
        ms = p["estimated_ms"]
        rows.append([key, f"{p['instructions']:,}", f"{p['estimated_cycles']:,}",
                     f"{p['estimated_cycles'] / p['instructions']:.2f}", f"{ms:.1f}" if ms is not None else "-"]
                    + [f"{v[key]:g}" for v in PUBLISHED_MS.values()])
        for layer in p["layers"]:
            s = per_op.setdefault(layer["op"], [0, 0, 0])
            s[0] += layer["instructions"]
            s[1] += layer["estimated_cycles"]
            s[2] += layer["macs"]
        print(rows[-1], file=sys.stderr)
    table = md_table(["model", "instructions", "estimated cycles", "cycles / instruction",
                      f"estimated ms at {p['clock_hz'] / 1e6:g} MHz"] + [f"{k} ms" for k in PUBLISHED_MS], rows)
    ops = md_table(["op", "instructions", "estimated cycles", "cycles / instruction", "cycles / MAC"],
                   [[op, f"{i:,}", f"{c:,}", f"{c / i:.2f}", f"{c / mac:.2f}" if mac else "-"]
                    for op, (i, c, mac) in sorted(per_op.items(), key=lambda kv: -kv[1][1])])
    text = (f"### Estimated cycles on the Cortex-M4 ({args.board})\n\n`python bench/cycles.py --write`.\n\n{table}\n\n"
            "Estimated, not measured: QEMU counts the instructions of each timing class (the plugin's classes=1 "
            "mode), and emulation/cycles.py applies the Cortex-M4 TRM's timings (loads and stores 2 cycles, 1 when "
            "pipelined after another, multiply-accumulates 1, LDM/STM 1 + N, taken branches 1 + P with P = 2; zero "
            "wait states: on the board, flash wait states not hidden by the ART accelerator add to every load "
            "from flash, and the speed build's pre-extended filters read twice the weight bytes). "
            "The published columns are board measurements from the MLPerf Tiny results (closed "
            "division, same board and clock). By operator over these models:\n\n" + ops)
    print(text)
    if args.write:
        write_section("cycles", text)


if __name__ == "__main__":
    main()
