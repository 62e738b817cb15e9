"""Board definitions: one TOML file per board in this directory.

A board names its core, compiler flags, memory map and sizes, and how it is emulated here.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from edgenn.errors import EdgennError

HERE = Path(__file__).resolve().parent
HOST = "host"


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    core: str
    kind: str  # "baremetal", "linux" or "host"
    cc: str
    cflags: tuple[str, ...]
    flash_origin: int
    flash_bytes: int
    ram_origin: int
    ram_bytes: int
    stack_bytes: int
    features: tuple[str, ...] = ()
    emulator: dict[str, Any] = field(default_factory=dict)

    @property
    def emulated(self) -> bool:
        return bool(self.emulator.get("kind"))


def _load(path: Path) -> Board:
    d = tomllib.loads(path.read_text())
    mem = d.get("memory", {})
    return Board(
        name=d["name"], description=d.get("description", ""), core=d["core"], kind=d["kind"], cc=d["cc"],
        cflags=tuple(d.get("cflags", [])), flash_origin=int(mem.get("flash_origin", 0)),
        flash_bytes=int(mem.get("flash_bytes", 0)), ram_origin=int(mem.get("ram_origin", 0)),
        ram_bytes=int(mem.get("ram_bytes", 0)), stack_bytes=int(mem.get("stack_bytes", 8192)),
        features=tuple(d.get("features", [])), emulator=dict(d.get("emulator", {})))


@lru_cache(maxsize=None)
def all_boards() -> dict[str, Board]:
    boards = {b.name: b for b in (_load(p) for p in sorted(HERE.glob("*.toml")))}
    return boards


def get_board(name: str | None) -> Board:
    """A board by name; None means the host computer."""
    name = name or HOST
    boards = all_boards()
    if name not in boards:
        raise EdgennError(f"unknown board {name!r}; known boards: {', '.join(sorted(boards))} (see `edgenn boards`)")
    return boards[name]
