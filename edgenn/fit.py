"""Does a model (or several models in one firmware) fit a board?

One truth: what the project `edgenn generate --board` writes really needs. For a bare-metal board
that is its test firmware (test_app/: the model libraries, the input and output buffers, the stack
the board file reserves, the vector table and start-up code), compiled with the board's compiler
and linked by the project's own Makefile with its own linker script, only with memory regions too
large to overflow (emulation/size.measure_project). The script's __flash_used__ and __ram_used__
are what the linker compares with the board's regions, so

    fits  <=>  the test firmware links for the board (flash and RAM)
               and its deepest stack (gcc -fcallgraph-info=su, from Reset_Handler) stays inside
               the stack it reserves (stack_bytes of the board file, less the guard words).

The libraries are reported on their own too (``libraries``): flash = text + data of lib<name>.a,
RAM = data + bss (the static arena) + the deepest stack of ``<name>_invoke``; that is what a model
adds to your own application. Linux and host boards have no limit worth checking: only the
libraries are measured.

Without the compiler the figures are estimated (weights + parameters + CODE_ALLOWANCE_BYTES of
code; arena + the board's stack_bytes; for the firmware also the I/O buffers and
TEST_APP_ALLOWANCE_BYTES), and the report says so.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from edgenn.analysis import analyze
from edgenn.boards import Board, get_board
from edgenn.errors import FitError, ToolchainError
from edgenn.format.enn import EnnModel

#: Code of a generated library when it cannot be compiled for the board.
CODE_ALLOWANCE_BYTES = 8 * 1024
#: Code and static data of the test application (start-up, semihosting, main) when it cannot be compiled.
TEST_APP_ALLOWANCE_BYTES = 2 * 1024
#: The lowest bytes of the firmware's stack that must stay untouched (test_app/startup.c STACK_GUARD_WORDS).
STACK_GUARD_BYTES = 32


def _io_bytes(m: EnnModel) -> int:
    return sum(m.tensors[d.tensor].nbytes for d in m.inputs) + sum(m.tensors[d.tensor].nbytes for d in m.outputs)


def fit_report(models: EnnModel | list[EnnModel], board: str | Board, measure: bool = True,
               shared_arena: bool = False, directory: Path | None = None) -> dict[str, Any]:
    """Flash, RAM and stack of the project of ``models`` on ``board``, and whether it fits.

    ``directory`` keeps the measured project (built with the fit check's linker script)."""
    ms = [models] if isinstance(models, EnnModel) else list(models)
    b = get_board(board) if isinstance(board, str) or board is None else board
    measured = None
    why_estimated = f"{b.cc} not available"
    if measure and shutil.which(b.cc):
        from edgenn.emulation.size import measure_project

        try:
            measured = measure_project(ms, b, directory, shared_arena=shared_arena)
        except ToolchainError as e:
            why_estimated = f"{b.cc} failed: {e}"
    libraries = []
    for k, m in enumerate(ms):
        a = analyze(m)
        consts = a["weights_bytes"] + a["params_bytes"]
        lm = measured["libraries"][k] if measured else None
        if lm is not None:
            libraries.append({
                "name": m.name, "flash": int(lm["flash"]), "ram": int(lm["static_ram"]) + int(lm["stack"]),
                "code_bytes": max(0, int(lm["text"]) - consts), "const_bytes": consts, "data_bytes": int(lm["data"]),
                "bss_bytes": int(lm["bss"]), "arena_bytes": a["arena_bytes"], "stack_bytes": int(lm["stack"]),
                "stack_path": lm["stack_path"]})
        else:
            libraries.append({
                "name": m.name, "flash": consts + CODE_ALLOWANCE_BYTES, "ram": a["arena_bytes"] + b.stack_bytes,
                "code_bytes": CODE_ALLOWANCE_BYTES, "const_bytes": consts, "data_bytes": 0, "bss_bytes": a["arena_bytes"],
                "arena_bytes": a["arena_bytes"], "stack_bytes": b.stack_bytes, "stack_path": []})
    arena = max(m.arena_bytes for m in ms) if shared_arena and len(ms) > 1 else sum(m.arena_bytes for m in ms)
    io = sum(_io_bytes(m) for m in ms)
    firmware = None
    if b.kind == "baremetal":
        if measured:
            fw = measured["firmware"]
            firmware = {"flash": int(fw["flash_used"]), "ram": int(fw["ram_used"]), "arena_bytes": arena,
                        "io_bytes": io, "stack_reserved": b.stack_bytes, "stack_needed": int(fw["stack"]),
                        "stack_path": fw["stack_path"]}
        else:
            firmware = {"flash": sum(lib["flash"] for lib in libraries) + TEST_APP_ALLOWANCE_BYTES,
                        "ram": arena + io + b.stack_bytes + TEST_APP_ALLOWANCE_BYTES, "arena_bytes": arena,
                        "io_bytes": io, "stack_reserved": b.stack_bytes, "stack_needed": None, "stack_path": []}
    if firmware is not None:
        flash, ram = firmware["flash"], firmware["ram"]
        stack_over = max(0, firmware["stack_needed"] - (b.stack_bytes - STACK_GUARD_BYTES)) \
            if firmware["stack_needed"] is not None else 0
        flash_over, ram_over = max(0, flash - b.flash_bytes), max(0, ram - b.ram_bytes)
    else:
        flash = sum(lib["flash"] for lib in libraries)
        ram = sum(lib["ram"] for lib in libraries)
        flash_over = ram_over = stack_over = 0
    method = (f"measured ({b.cc}: the test firmware linked with the project's linker script, size, -fcallgraph-info)"
              if measured else f"estimated ({why_estimated}): code {CODE_ALLOWANCE_BYTES} B per library, "
              "stack = the board's stack_bytes")
    first = {k: v for k, v in libraries[0].items() if k not in ("name", "flash", "ram")}
    return {
        "board": b.name, "models": [m.name for m in ms], "ram_bytes": b.ram_bytes, "flash_bytes": b.flash_bytes,
        "ram_used": ram, "flash_used": flash, "ram_over": ram_over, "flash_over": flash_over, "stack_over": stack_over,
        "fits": not (ram_over or flash_over or stack_over), "measured": measured is not None, "method": method,
        "libraries": libraries, "firmware": firmware, **first,
    }


def stack_over_message(needed: int, path: list[str], reserved: int) -> str:
    """What is over when the test firmware's deepest stack exceeds the stack it reserves."""
    via = " -> ".join(path[:4]) + (" -> ..." if len(path) > 4 else "")
    return (f"stack: the test firmware needs {needed:,} B of stack ({via}), the board file reserves {reserved:,} B "
            f"(less {STACK_GUARD_BYTES} B of guard), {needed - (reserved - STACK_GUARD_BYTES):,} B over")


def explain(r: dict[str, Any]) -> str:
    """Why a report does not fit, in one line (what is over, by how much, and what it is made of)."""
    names = ", ".join(f"'{n}'" for n in r["models"])
    what = f"model{'s' if len(r['models']) > 1 else ''} {names}"
    how = "measured" if r["measured"] else "estimated"
    fw = r["firmware"]
    parts = []
    if r["flash_over"]:
        consts = sum(lib["const_bytes"] for lib in r["libraries"])
        parts.append(f"flash: the test firmware needs {r['flash_used']:,} B (weights and parameters {consts:,} + code and "
                     f"data {r['flash_used'] - consts:,}), has {r['flash_bytes']:,} B, {r['flash_over']:,} B over")
    if r["ram_over"]:
        other = r["ram_used"] - fw["arena_bytes"] - fw["io_bytes"] - fw["stack_reserved"]
        parts.append(f"RAM: the test firmware needs {r['ram_used']:,} B (arena {fw['arena_bytes']:,} + input/output buffers "
                     f"{fw['io_bytes']:,} + stack {fw['stack_reserved']:,} + other {other:,}), has {r['ram_bytes']:,} B, "
                     f"{r['ram_over']:,} B over")
    if r["stack_over"]:
        parts.append(stack_over_message(fw["stack_needed"], fw["stack_path"], fw["stack_reserved"]))
    lib_flash = sum(lib["flash"] for lib in r["libraries"])
    lib_ram = sum(lib["ram"] for lib in r["libraries"])
    alone = ""
    if lib_flash <= r["flash_bytes"] and lib_ram <= r["ram_bytes"]:
        alone = (f"; the librar{'ies' if len(r['libraries']) > 1 else 'y'} alone need{'' if len(r['libraries']) > 1 else 's'}"
                 f" flash {lib_flash:,} B and RAM {lib_ram:,} B (arena and stack included), "
                 f"{r['ram_bytes'] - lib_ram:,} B of RAM left for your own application")
    return f"{what} do{'' if len(r['models']) > 1 else 'es'} not fit {r['board']} ({how}): " + "; ".join(parts) + alone


def check_fit(models: EnnModel | list[EnnModel], board: str | Board, measure: bool = True,
              shared_arena: bool = False) -> dict[str, Any]:
    """The fit report; FitError (one line, with the bytes over) if it does not fit."""
    r = fit_report(models, board, measure, shared_arena=shared_arena)
    if not r["fits"]:
        raise FitError(explain(r))
    return r


def overflow_error(models: EnnModel | list[EnnModel], board: Board, error: FitError) -> FitError:
    """A build that the linker found too big for ``board`` (``error``: one line with the bytes over),
    explained by the fit check: what is over and what the firmware is made of."""
    r = fit_report(models, board)
    return FitError(explain(r) if not r["fits"] else f"{board.name}: {error}")
