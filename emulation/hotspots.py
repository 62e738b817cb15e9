"""Where a model's instructions go, by function and by basic block: the firmware (or Pi runner)
under QEMU with the counting plugin's hot=FILE mode, its blocks mapped to the ELF's functions.

For kernel work: `profile()` says which layer is slow, this says which loop. The counts cover the
whole run (start-up, input reading and the inferences), so run several inputs to make the
inference dominate. Deterministic like every plugin count.
"""
from __future__ import annotations

import bisect
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgenn.boards import Board, get_board
from edgenn.emulation import backends as be
from edgenn.emulation.profile import plugin_args, plugin_path
from edgenn.errors import EdgennError, ToolchainError
from edgenn.format.enn import EnnModel


@dataclass
class Block:
    """A translated block: its start address, instructions and executions."""
    start: int
    insns: int
    runs: int

    @property
    def instructions(self) -> int:
        return self.insns * self.runs


@dataclass
class Function:
    """A function's share of the run: its executed instructions and its blocks, hottest first."""
    name: str
    start: int
    size: int
    instructions: int = 0
    blocks: list[Block] = field(default_factory=list)


def read_hot(path: Path) -> list[Block]:
    """The plugin's hot=FILE lines, blocks translated more than once merged."""
    merged: dict[tuple[int, int], int] = {}
    for line in path.read_text().splitlines():
        a, n, r = line.split()
        key = (int(a, 16), int(n))
        merged[key] = merged.get(key, 0) + int(r)
    return [Block(a, n, r) for (a, n), r in merged.items()]


def function_table(elf: Path, board: Board) -> list[tuple[int, int, str]]:
    """(start, size, name) of the ELF's functions, sorted by address (Thumb bit dropped)."""
    nm = board.tool_prefix + "nm"
    try:
        r = subprocess.run([nm, "-S", "-n", str(elf)], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise ToolchainError(f"{nm} not found (make setup installs the toolchains)") from None
    if r.returncode != 0:
        raise ToolchainError(f"{nm} {elf} failed: {r.stderr.strip()[:300]}")
    res = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "TtWw":
            res.append((int(parts[0], 16) & ~1, int(parts[1], 16), parts[3]))
    return sorted(res)


def attribute(blocks: list[Block], funcs: list[tuple[int, int, str]]) -> list[Function]:
    """Each block charged to the function containing its start; hottest functions first."""
    starts = [f[0] for f in funcs]
    out: dict[str, Function] = {}
    for b in blocks:
        i = bisect.bisect_right(starts, b.start) - 1
        if i >= 0 and b.start < funcs[i][0] + max(funcs[i][1], 1):
            start, size, name = funcs[i]
        else:
            start, size, name = b.start, 0, f"?{b.start:#x}"
        f = out.setdefault(name, Function(name, start, size))
        f.instructions += b.instructions
        f.blocks.append(b)
    for f in out.values():
        f.blocks.sort(key=lambda b: -b.instructions)
    return sorted(out.values(), key=lambda f: -f.instructions)


@dataclass
class Hotspots:
    """A run's functions by executed instructions (hottest first), the plugin's own total for the
    run (equal to the functions' sum: both count every executed block) and the ELF, when kept."""
    functions: list[Function]
    total: int
    elf: Path | None


def hotspots(model: EnnModel, inputs: list[np.ndarray], board: str | Board, directory: Path | None = None,
             cflags: str = "", timeout: float = be.DEFAULT_TIMEOUT) -> Hotspots:
    """Run ``model`` on ``board`` under QEMU and count its instructions by function and block.

    With ``directory`` the build is kept there and its ELF's path returned (for disassembling
    the hot blocks)."""
    b = get_board(board) if isinstance(board, str) else board
    if not b.emulated:
        raise EdgennError(f"board {b.name} has no emulator: hot spots need QEMU")
    n = be.check_inputs(model, inputs)
    data = be.pack_inputs(model, inputs)
    plugin_path()
    with tempfile.TemporaryDirectory(prefix="edgenn-hot-") as tmp:
        root = Path(directory) if directory is not None else Path(tmp)
        built = be.build(model, b, root / "hot", cflags=cflags)
        hot, counts = Path(tmp) / "hot.txt", Path(tmp) / "counts.txt"
        args = plugin_args(built.binary, b, counts, layers=False)
        args[-1] += f",hot={hot}"
        res = be.run_raw(built, data, timeout=timeout, plugin=args)
        if res.data is None or not hot.exists() or not counts.exists():
            raise EdgennError(f"{b.name}: the run wrote no outputs or no block counts")
        be.unpack_outputs(model, res.data, n)
        totals = [int(line.split()[1]) for line in counts.read_text().splitlines() if line.startswith("total")]
        if not totals:
            raise EdgennError(f"{b.name}: the plugin wrote no total")
        funcs = attribute(read_hot(hot), function_table(built.binary, b))
    return Hotspots(funcs, totals[-1], built.binary if directory is not None else None)
