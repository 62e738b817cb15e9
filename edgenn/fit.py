"""Does a model fit a board? RAM = arena + stack; flash = weights + parameters + code."""
from __future__ import annotations

from typing import Any

from edgenn.analysis import analyze
from edgenn.boards import get_board
from edgenn.errors import FitError
from edgenn.runtime_py.enn import EnnModel

# Code of the generated library and harness, before it is measured for the board (see issue 5).
CODE_ALLOWANCE_BYTES = 8 * 1024


def fit_report(model: EnnModel, board_name: str) -> dict[str, Any]:
    b = get_board(board_name)
    a = analyze(model)
    ram = a["arena_bytes"] + b.stack_bytes
    flash = a["weights_bytes"] + a["params_bytes"] + CODE_ALLOWANCE_BYTES
    limited = b.kind == "baremetal"
    return {
        "board": b.name, "ram_bytes": b.ram_bytes, "flash_bytes": b.flash_bytes,
        "ram_used": ram, "flash_used": flash,
        "ram_over": max(0, ram - b.ram_bytes) if limited else 0,
        "flash_over": max(0, flash - b.flash_bytes) if limited else 0,
        "fits": not limited or (ram <= b.ram_bytes and flash <= b.flash_bytes),
    }


def check_fit(model: EnnModel, board_name: str) -> dict[str, Any]:
    r = fit_report(model, board_name)
    if not r["fits"]:
        parts = []
        if r["ram_over"]:
            parts.append(f"RAM: needs {r['ram_used']:,} B (arena + stack), has {r['ram_bytes']:,} B, "
                         f"{r['ram_over']:,} B over")
        if r["flash_over"]:
            parts.append(f"flash: needs {r['flash_used']:,} B (weights + parameters + code), has "
                         f"{r['flash_bytes']:,} B, {r['flash_over']:,} B over")
        raise FitError(f"model '{model.name}' does not fit {r['board']}: " + "; ".join(parts))
    return r
