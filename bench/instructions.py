"""Instructions per inference and per MAC of the four MLPerf Tiny models on emulated boards.

    python bench/instructions.py [--boards mps2-an386,mps2-an500,mps3-an547,rpi4,rpi5,rpi3-32] [--samples 3]
                                 [--models kws,vww,ic,ad] [--per-op] [--json FILE] [--write]
                                 [--optimize speed|size]

Counts come from edgenn's QEMU TCG plugin (emulation/plugin/icount.c): executed guest
instructions between the harness's markers around each inference, identical on every run. Inputs
are random int8 samples (seed 0); the outputs are checked byte for byte against runtime_py. TFLM's
figures (reference kernels and CMSIS-NN, same QEMU, same counting) are read from
tests/data/mlperf_tiny/README.md.

Prints a markdown table (and writes it with --write) for docs/benchmarks.md. QEMU counts
instructions, not cycles: no pipeline, no memory wait states, one MVE/NEON instruction counts as one.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MLPERF = ROOT / "tests" / "data" / "mlperf_tiny"
MODELS = {"kws": ("KWS", "kws_ref_model.tflite"), "vww": ("VWW", "vww_96_int8.tflite"),
          "ic": ("IC", "pretrainedResnet_quant.tflite"), "ad": ("AD", "ad01_int8.tflite")}
BOARD_LABELS = {"mps2-an386": "M4", "mps2-an500": "M7", "mps3-an547": "M55", "rpi4": "A72 (aarch64)",
                "mps2-an385": "M3", "mps2-an505": "M33", "rp2040": "M0+", "rpi2": "A7 (armhf)",
                "rpi3": "A53 (aarch64)", "rpi5": "A76 (aarch64)", "rpi3-32": "A53 (armhf)"}


def tflm_figures(readme: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """{"KWS": {"M4 reference": (millions, per MAC), ...}} from the models' README."""
    res: dict[str, dict[str, tuple[float, float]]] = {}
    if not readme.exists():
        return res
    lines = readme.read_text().splitlines()
    header = None
    for line in lines:
        if line.startswith("| model | M4 reference"):
            header = [c.strip() for c in line.strip("|").split("|")][1:]
            continue
        if header and line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            name, vals = cells[0], cells[1:]
            row = {}
            for h, v in zip(header, vals):
                m = re.match(r"([\d.]+) M \(([\d.]+)\)", v)
                if m:
                    row[h] = (float(m.group(1)), float(m.group(2)))
            if row:
                res[name] = row
        elif header and not line.startswith("|"):
            header = None
    return res


def convert(key: str):
    from edgenn.converter.pipeline import ConvertOptions, convert as do_convert

    return do_convert(str(MLPERF / MODELS[key][1]), None, ConvertOptions(progress=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default="mps2-an386,mps2-an500,mps3-an547,rpi4,rpi5,rpi3-32")
    ap.add_argument("--models", default="kws,vww,ic,ad")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--per-op", action="store_true", help="also a table of instructions per MAC per op type")
    ap.add_argument("--json", help="write all figures as JSON here")
    ap.add_argument("--write", action="store_true", help="update the instructions section of docs/benchmarks.md")
    ap.add_argument("--optimize", choices=["speed", "size"], default="speed",
                    help="the generated projects' level, as `edgenn generate --optimize` (the docs' table: speed)")
    args = ap.parse_args(argv)
    if args.write and args.optimize != "speed":
        ap.error("--write records the default level only (--optimize speed)")

    from edgenn.boards import get_board, optimized_for
    from edgenn.emulation import backends
    from edgenn.emulation.profile import profile

    boards = [b for b in args.boards.split(",") if b]
    models = [m for m in args.models.split(",") if m]
    tflm = tflm_figures(MLPERF / "README.md")
    results: dict[str, dict[str, dict]] = {}
    for key in models:
        m = convert(key)
        rng = np.random.default_rng(0)
        xs = [rng.integers(-128, 128, size=(args.samples,) + tuple(m.tensors[d.tensor].shape), dtype=np.int16
                           ).astype(np.int8) for d in m.inputs]
        want = backends.run(m, xs, "python")
        results[key] = {}
        for board in boards:
            t0 = time.perf_counter()
            p = profile(m, xs, optimized_for(get_board(board), args.optimize))
            exact = all(a.tobytes() == b.tobytes() for a, b in zip(want, p.pop("outputs")))
            p["bit_exact"] = exact
            p["seconds"] = round(time.perf_counter() - t0, 2)
            results[key][board] = p
            print(f"{MODELS[key][0]:4s} {board:12s} {p['instructions']:>12,} instructions "
                  f"({p['instructions_per_mac']:.2f}/MAC), bit-exact {exact}, {p['seconds']} s", file=sys.stderr)
            if not exact:
                print(f"error: {key} on {board} differs from runtime_py", file=sys.stderr)

    md = table(results, boards, models, tflm)
    if args.per_op:
        md += "\n" + per_op_table(results, boards, models)
    print(md)
    if args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from common import write_section

        write_section("instructions", md)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0 if all(p["bit_exact"] for r in results.values() for p in r.values()) else 1


def _fmt(instr: float, per_mac: float | None) -> str:
    return f"{instr / 1e6:.2f} M ({per_mac:.2f})" if per_mac is not None else f"{instr / 1e6:.2f} M"


def table(results: dict, boards: list[str], models: list[str], tflm: dict) -> str:
    from edgenn.boards import get_board

    heads = ["model", "MACs"]
    for b in boards:
        heads.append(f"{BOARD_LABELS.get(b, b)} edgenn")
        label = BOARD_LABELS.get(b, "")
        if label == "M4":
            heads += ["M4 TFLM reference", "M4 TFLM CMSIS-NN"]
        if label == "M55":
            heads += ["M55 TFLM CMSIS-NN (MVE)"]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for key in models:
        name = MODELS[key][0]
        any_p = next(iter(results[key].values()))
        row = [name, f"{any_p['macs'] / 1e6:.2f} M"]
        t = tflm.get(name, {})
        for b in boards:
            p = results[key][b]
            row.append(_fmt(p["instructions"], p["instructions_per_mac"]))
            label = BOARD_LABELS.get(b, "")
            if label == "M4":
                for col in ("M4 reference", "M4 CMSIS-NN"):
                    row.append(f"{t[col][0]:.2f} M ({t[col][1]:.2f})" if col in t else "-")
            if label == "M55":
                col = "M55 CMSIS-NN (MVE)"
                row.append(f"{t[col][0]:.2f} M ({t[col][1]:.2f})" if col in t else "-")
        lines.append("| " + " | ".join(row) + " |")
    cores = ", ".join(f"{BOARD_LABELS.get(b, b)} = `{b}` ({get_board(b).core})" for b in boards)
    note = (f"\nExecuted instructions per inference (instructions per MAC), counted by edgenn's QEMU plugin, "
            f"identical run to run; mean of the samples; outputs byte-identical to runtime_py. Boards: {cores}. "
            "edgenn: its own C99 kernels at -O2 (no CMSIS-NN), with ACLE intrinsics and a few inline-assembly "
            "loops for the DSP extension (M4, M7; the speed build's conv2d and fully_connected filters "
            "also pre-extended to int16 pairs in flash, codegen/dsp_filters.py: the flash is in the memory "
            "section) and for Helium (M55), NEON intrinsics on the Pis "
            "(A72, A76: SDOT; the armhf A53 in 32-bit NEON; on the 64-bit Pis conv2d and fully_connected "
            "filters also packed per eight filters, codegen/neon.py, with an inline-assembly step loop), "
            "portable C elsewhere. "
            "TFLM figures: tests/data/mlperf_tiny/README.md (same QEMU, same counting).\n")
    return "\n".join(lines) + "\n" + note


def per_op_table(results: dict, boards: list[str], models: list[str]) -> str:
    ops: dict[str, dict[str, list[float]]] = {}
    for key in models:
        for b in boards:
            for layer in results[key][b]["layers"]:
                if layer["macs"]:
                    d = ops.setdefault(layer["op"], {}).setdefault(b, [0.0, 0.0])
                    d[0] += layer["instructions"]
                    d[1] += layer["macs"]
    heads = ["op"] + [BOARD_LABELS.get(b, b) for b in boards]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for op in sorted(ops):
        row = [op] + [f"{ops[op][b][0] / ops[op][b][1]:.2f}" if b in ops[op] else "-" for b in boards]
        lines.append("| " + " | ".join(row) + " |")
    return ("Instructions per MAC by operator type (all layers of the models above):\n\n"
            + "\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
