"""Flash and RAM of generated code, measured with the board toolchain's `size`."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from edgenn.boards import Board
from edgenn.errors import EdgennError, ToolchainError


def size_tool(board: Board) -> str:
    return board.tool_prefix + "size"


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


# ---- the library built for a board: code, data and stack, measured ----

#: Stack allowed for a function compiled elsewhere (a libgcc helper such as __aeabi_lmul: small
#: leaf functions whose frames -fcallgraph-info cannot see).
UNKNOWN_CALLEE_BYTES = 64

_CI_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "[^"]*?(?:\\n(\d+) bytes \(([a-z,]+)\))?" ?(?:shape|\})')
_CI_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')


def parse_callgraph(texts: list[str]) -> tuple[dict[str, tuple[int, str]], dict[str, set[str]]]:
    """Stack frames and calls from gcc's -fcallgraph-info=su files (VCG format).

    Returns ({function: (frame bytes, qualifier)}, {caller: {callees}}); functions defined
    elsewhere (libgcc, libc) have no frame entry.
    """
    frames: dict[str, tuple[int, str]] = {}
    calls: dict[str, set[str]] = {}
    for text in texts:
        for m in _CI_NODE.finditer(text):
            if m.group(2) is not None:
                frames[m.group(1)] = (int(m.group(2)), m.group(3))
        for m in _CI_EDGE.finditer(text):
            calls.setdefault(m.group(1), set()).add(m.group(2))
    return frames, calls


def worst_stack(frames: dict[str, tuple[int, str]], calls: dict[str, set[str]], entry: str
                ) -> tuple[int, list[str], list[str]]:
    """Deepest stack of the call tree under ``entry``: (bytes, path, unknown callees).

    Raises EdgennError for recursion or a frame of unbounded dynamic size.
    """
    memo: dict[str, tuple[int, list[str]]] = {}
    unknown: set[str] = set()

    def visit(f: str, stack: tuple[str, ...]) -> tuple[int, list[str]]:
        if f in stack:
            raise EdgennError(f"recursion through {f}(): the stack cannot be bounded")
        if f in memo:
            return memo[f]
        if f not in frames:
            unknown.add(f)
            return UNKNOWN_CALLEE_BYTES, [f]
        size, qual = frames[f]
        if qual == "dynamic":
            raise EdgennError(f"{f}() has a stack frame of unbounded size")
        best, path = 0, []
        for g in sorted(calls.get(f, ())):
            s, p = visit(g, stack + (f,))
            if s > best or not path:
                best, path = s, p
        memo[f] = (size + best, [f] + path)
        return memo[f]

    total, path = visit(entry, ())
    return total, path, sorted(unknown)


def symbol_values(elf: Path, board: Board, names: list[str]) -> dict[str, int]:
    """Values of the named symbols of an ELF file (from the toolchain's nm)."""
    nm = board.tool_prefix + "nm"
    try:
        r = subprocess.run([nm, str(elf)], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise ToolchainError(f"{nm} not found (make setup installs the toolchains)") from None
    values = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] in names:
            values[parts[2]] = int(parts[0], 16)
    missing = [n for n in names if n not in values]
    if missing:
        raise ToolchainError(f"{elf.name} has no symbol {', '.join(missing)}")
    return values


def stack_of(directory: Path, entry: str, cc: str) -> tuple[int, list[str], list[str]]:
    """Deepest stack under ``entry`` from the -fcallgraph-info=su files (.ci) in ``directory``:
    (bytes, path, unknown callees)."""
    texts = [p.read_text(errors="replace") for p in Path(directory).rglob("*.ci")]
    frames, calls = parse_callgraph(texts)
    if entry not in frames:
        raise ToolchainError(f"no stack usage for {entry} from {cc} -fcallgraph-info")
    return worst_stack(frames, calls, entry)


def measure_project(models: list, board: Board, directory: Path | None = None, firmware: bool = True,
                    shared_arena: bool = False) -> dict[str, Any]:
    """Compile the project of ``models`` for ``board`` with its toolchain and measure it.

    Per library (``libraries``, in model order): text (code + constants), data and bss (with the
    static arena) of lib<name>.a from `size`, and the deepest stack of ``<name>_invoke`` from gcc's
    -fcallgraph-info=su. For a bare-metal board also the test firmware (``firmware``): linked
    with the project's own Makefile and linker script, only with regions too large to overflow
    (test_app/link_fit.ld), its flash and RAM from the script's __flash_used__ / __ram_used__ (what
    the linker compares with the regions of test_app/link.ld), and the deepest stack from
    Reset_Handler. ``directory`` keeps the built project there; ``firmware=False`` measures only
    the libraries.
    """
    import tempfile

    from edgenn.codegen.generate import library_dir, render_project
    from edgenn.emulation.backends import make

    if shutil.which(board.cc) is None:
        raise ToolchainError(f"{board.cc} not found (make setup installs the toolchains)")
    names = [m.name for m in models]
    with tempfile.TemporaryDirectory(prefix="edgenn-size-") as tmp:
        d = Path(directory) if directory is not None else Path(tmp) / "project"
        firmware = firmware and board.kind == "baremetal"
        render_project(models, d, board, harness=firmware, fit_script=firmware, shared_arena=shared_arena,
                       command=f"edgenn (size of {', '.join(names)} on {board.name})")
        targets = [f"lib{n}.a" for n in names] + (["firmware.elf"] if firmware else [])
        extra = ["CFLAGS=-fcallgraph-info=su"] + (["LDSCRIPT=test_app/link_fit.ld"] if firmware else [])
        make(d, targets, extra)
        libraries = []
        for n in names:
            stack, path, unknown = stack_of(library_dir(d, n), f"{n}_invoke", board.cc)
            libraries.append({**measure([d / f"lib{n}.a"], board), "stack": stack, "stack_path": path,
                              "stack_unknown": unknown})
        res: dict[str, Any] = {"libraries": libraries, "firmware": None}
        if firmware:
            elf = d / "firmware.elf"
            stack, path, unknown = stack_of(d, "Reset_Handler", board.cc)
            used = symbol_values(elf, board, ["__flash_used__", "__ram_used__"])
            res["firmware"] = {**measure([elf], board), "flash_used": used["__flash_used__"],
                               "ram_used": used["__ram_used__"], "stack_reserved": board.stack_bytes,
                               "stack": stack, "stack_path": path, "stack_unknown": unknown}
    return res


def measure_library(model, board: Board, directory: Path | None = None) -> dict[str, Any]:
    """The library of ``model`` alone, compiled for ``board``: text, data, bss and the deepest stack
    of ``<name>_invoke`` (see measure_project)."""
    return measure_project([model], board, directory, firmware=False)["libraries"][0]
