"""Does a model fit a board?

Measured, not guessed, when the board's compiler is installed: the generated library is compiled
for the board (its flags, -O2) and

- flash = text + data of the library (kernels' code, the invoke sequence, weights, per-layer
  parameters, initialized data), from the toolchain's `size`;
- RAM = data + bss of the library (the static arena is in bss) + the deepest stack of
  ``<name>_invoke``, from gcc's -fcallgraph-info=su call graph and frame sizes.

Without the compiler the figures are estimated (weights + parameters + CODE_ALLOWANCE_BYTES for
flash; arena + the board's stack_bytes for RAM), and the report says so. Your own application's
code, buffers and stack come on top of these figures.
"""
from __future__ import annotations

import shutil
from typing import Any

from edgenn.analysis import analyze
from edgenn.boards import Board, get_board
from edgenn.errors import FitError, ToolchainError
from edgenn.format.enn import EnnModel

#: Code of the generated library when it cannot be compiled for the board.
CODE_ALLOWANCE_BYTES = 8 * 1024


def fit_report(model: EnnModel, board: str | Board, measure: bool = True) -> dict[str, Any]:
    b = get_board(board) if isinstance(board, str) or board is None else board
    a = analyze(model)
    consts = a["weights_bytes"] + a["params_bytes"]
    measured = None
    if measure and shutil.which(b.cc):
        from edgenn.emulation.size import measure_library

        try:
            measured = measure_library(model, b)
        except ToolchainError:
            measured = None
    if measured is not None:
        flash = int(measured["flash"])
        stack = int(measured["stack"])
        ram = int(measured["static_ram"]) + stack
        detail = {
            "method": f"measured ({b.cc}: size, -fcallgraph-info)",
            "code_bytes": max(0, int(measured["text"]) - consts), "const_bytes": consts,
            "data_bytes": int(measured["data"]), "bss_bytes": int(measured["bss"]),
            "arena_bytes": a["arena_bytes"], "stack_bytes": stack, "stack_path": measured["stack_path"],
        }
    else:
        stack = b.stack_bytes
        flash = consts + CODE_ALLOWANCE_BYTES
        ram = a["arena_bytes"] + stack
        detail = {
            "method": f"estimated ({b.cc} not available): code {CODE_ALLOWANCE_BYTES} B, stack = the board's stack_bytes",
            "code_bytes": CODE_ALLOWANCE_BYTES, "const_bytes": consts, "data_bytes": 0, "bss_bytes": a["arena_bytes"],
            "arena_bytes": a["arena_bytes"], "stack_bytes": stack, "stack_path": [],
        }
    limited = b.kind == "baremetal"
    flash_limit = limited and b.flash_bytes > 0
    ram_limit = limited and b.ram_bytes > 0
    return {
        "board": b.name, "ram_bytes": b.ram_bytes, "flash_bytes": b.flash_bytes,
        "ram_used": ram, "flash_used": flash,
        "ram_over": max(0, ram - b.ram_bytes) if ram_limit else 0,
        "flash_over": max(0, flash - b.flash_bytes) if flash_limit else 0,
        "fits": (not ram_limit or ram <= b.ram_bytes) and (not flash_limit or flash <= b.flash_bytes),
        "measured": measured is not None, **detail,
    }


def check_fit(model: EnnModel, board: str | Board, measure: bool = True) -> dict[str, Any]:
    """The fit report; FitError (one line, with the bytes over) if the model does not fit."""
    r = fit_report(model, board, measure)
    if not r["fits"]:
        parts = []
        if r["flash_over"]:
            parts.append(f"flash: needs {r['flash_used']:,} B (code {r['code_bytes']:,} + weights and parameters "
                         f"{r['const_bytes']:,} + data {r['data_bytes']:,}), has {r['flash_bytes']:,} B, "
                         f"{r['flash_over']:,} B over")
        if r["ram_over"]:
            parts.append(f"RAM: needs {r['ram_used']:,} B (arena {r['arena_bytes']:,} + other static "
                         f"{r['data_bytes'] + r['bss_bytes'] - r['arena_bytes']:,} + stack {r['stack_bytes']:,}), "
                         f"has {r['ram_bytes']:,} B, {r['ram_over']:,} B over")
        how = "measured" if r["measured"] else "estimated"
        raise FitError(f"model '{model.name}' does not fit {r['board']} ({how}): " + "; ".join(parts))
    return r
