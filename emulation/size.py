"""Flash and RAM of generated code, measured with the board toolchain's `size`."""
from __future__ import annotations

import subprocess
from pathlib import Path

from edgenn.boards import Board
from edgenn.errors import ToolchainError


def size_tool(board: Board) -> str:
    return board.cc[: -len("gcc")] + "size" if board.cc.endswith("gcc") else "size"


def measure(paths: list[Path], board: Board) -> dict[str, int]:
    """Summed text / data / bss of object files, archives or ELF files (Berkeley format)."""
    cmd = [size_tool(board), "-B", "-t"] + [str(p) for p in paths]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise ToolchainError(f"{cmd[0]} not found (make setup installs the toolchains)") from None
    if r.returncode != 0:
        raise ToolchainError(f"{cmd[0]} failed: {r.stderr.strip()[:300]}")
    last = r.stdout.strip().splitlines()[-1].split()
    text, data, bss = (int(v) for v in last[:3])
    return {"text": text, "data": data, "bss": bss, "flash": text + data, "static_ram": data + bss}


def library_size(directory: Path, board: Board, model_name: str) -> dict[str, int]:
    """Size of the model library alone (weights, parameters, kernels, static arena in bss)."""
    lib = Path(directory) / f"lib{model_name}.a"
    if not lib.exists():
        from edgenn.emulation.backends import make

        make(Path(directory), f"lib{model_name}.a")
    return measure([lib], board)
