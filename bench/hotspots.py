"""Where the instructions go: a model's functions and hottest blocks on an emulated board.

    python bench/hotspots.py --model vww [--board mps2-an386] [--samples 3] [--top 15] [--disassemble 4]
    python bench/hotspots.py --enn model.enn --board rpi4

Runs the firmware under QEMU with the counting plugin's block counts (emulation/hotspots.py) and
prints the functions by executed instructions, then the hottest blocks with their disassembly
(the board toolchain's objdump). For kernel work; the figures cover the whole run.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MLPERF, convert_mlperf, md_table  # noqa: E402

from edgenn.boards import get_board  # noqa: E402
from edgenn.emulation.hotspots import hotspots  # noqa: E402
from edgenn.emulation.profile import default_inputs  # noqa: E402
from edgenn.format.enn import load  # noqa: E402


def disassemble(elf: Path, objdump: str, start: int, insns: int) -> str:
    """``insns`` instructions from ``start`` (Thumb-2 instructions are 2 or 4 bytes: over-read, cut)."""
    r = subprocess.run([objdump, "-d", "--no-show-raw-insn", f"--start-address={start:#x}",
                        f"--stop-address={start + 4 * insns:#x}", str(elf)], capture_output=True, text=True)
    lines = [ln for ln in r.stdout.splitlines() if ln[:1] == " " and ":" in ln]
    return "\n".join(lines[:insns])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help=f"an MLPerf Tiny model: {', '.join(k.lower() for k in MLPERF)}")
    src.add_argument("--enn", type=Path, help="an .enn file")
    ap.add_argument("--board", default="mps2-an386")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--top", type=int, default=15, help="functions to list")
    ap.add_argument("--disassemble", type=int, default=4, help="hottest blocks to disassemble")
    ap.add_argument("--cflags", default="", help="extra compiler flags, e.g. -Os")
    args = ap.parse_args()
    if args.model:
        if args.model.upper() not in MLPERF:
            ap.error(f"unknown model {args.model!r}")
        model = convert_mlperf(args.model.upper())
    else:
        model = load(args.enn)
    board = get_board(args.board)
    with tempfile.TemporaryDirectory() as tmp:
        hs = hotspots(model, default_inputs(model, args.samples), board, Path(tmp), cflags=args.cflags)
        funcs, elf, total = hs.functions, hs.elf, hs.total
        print(f"{model.name} on {board.name}: {total:,} instructions in {args.samples} samples (whole run)\n")
        print(md_table(["function", "instructions", "share", "blocks run"],
                       [[f.name, f"{f.instructions:,}", f"{100 * f.instructions / total:.1f} %", len(f.blocks)]
                        for f in funcs[:args.top]]))
        blocks = sorted(((b, f.name) for f in funcs for b in f.blocks), key=lambda t: -t[0].instructions)
        for b, name in blocks[:args.disassemble]:
            print(f"\n{name} block {b.start:#x}: {b.insns} instructions x {b.runs:,} runs = {b.instructions:,} "
                  f"({100 * b.instructions / total:.1f} %)")
            print(disassemble(elf, board.tool_prefix + "objdump", b.start, b.insns))


if __name__ == "__main__":
    main()
