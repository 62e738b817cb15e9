"""Board definitions: one TOML file per board in this directory.

A board names its core, compiler flags, memory map and sizes, and how it is emulated here.

Three kinds of boards:

- ``baremetal``: a microcontroller. ``[memory]`` holds the real flash and RAM (origin and size);
  the firmware is linked with these sizes, so a model that does not fit fails to link.
  ``[emulator]`` says how QEMU runs it. A real product (e.g. an STM32F446RE) names the QEMU
  machine of the same core with ``emulated_by = "mps2-an386"``: its firmware for the emulator is
  linked at that machine's addresses but with the product's sizes (``Board.emu_map``).
- ``linux``: an ARM Linux board (Raspberry Pi), cross-compiled and run with QEMU user mode.
- ``host``: the computer running edgenn.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from edgenn.errors import EdgennError

HERE = Path(__file__).resolve().parent
HOST = "host"
KINDS = ("baremetal", "linux", "host")
EMULATORS = ("qemu-system-arm", "qemu-aarch64", "qemu-arm", "native", "")


@dataclass(frozen=True)
class MemoryMap:
    flash_origin: int
    flash_bytes: int
    ram_origin: int
    ram_bytes: int


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
    ldflags: tuple[str, ...] = ()
    emulated_by: str = ""
    #: Memory map of the emulated machine the firmware for QEMU is linked for (bare metal only):
    #: the emulator's origins with this board's sizes. None: no emulator.
    emu_map: MemoryMap | None = None
    product: str = ""
    url: str = ""
    #: The core's clock of the product (0: not one product, e.g. an FPGA image or a Pi model range).
    clock_hz: int = 0
    #: The optimization level of generated projects (their Makefile's OPT): the board's fastest by
    #: default (`opt` in its file, else -O2), -Os with `--optimize size` (optimized_for).
    opt: str = "-O2"
    #: Threads of the generated library's large layers (`--threads`, with_threads); 1 on microcontrollers.
    threads: int = 1

    @property
    def emulated(self) -> bool:
        return self.emulator.get("kind", "") not in ("", "native")

    @property
    def real_map(self) -> MemoryMap:
        return MemoryMap(self.flash_origin, self.flash_bytes, self.ram_origin, self.ram_bytes)

    @property
    def separate_emu_firmware(self) -> bool:
        """True when the firmware for QEMU must be linked differently from the real board's."""
        return self.kind == "baremetal" and self.emu_map is not None and self.emu_map != self.real_map

    @property
    def emu_firmware(self) -> str:
        """The Makefile target of the firmware that runs in the emulator."""
        return "firmware-qemu.elf" if self.separate_emu_firmware else "firmware.elf"

    @property
    def tool_prefix(self) -> str:
        """'arm-none-eabi-' for arm-none-eabi-gcc; '' for gcc."""
        return self.cc[: -len("gcc")] if self.cc.endswith("gcc") else ""

    def emulator_args(self) -> list[str]:
        """Extra emulator arguments, with {flash_bytes}/{ram_bytes} of the board filled in."""
        return [str(a).format(flash_bytes=self.flash_bytes, ram_bytes=self.ram_bytes)
                for a in self.emulator.get("args", [])]

    def summary(self) -> dict[str, Any]:
        """The board as plain data (what `edgenn boards --json` prints)."""
        return {
            "name": self.name, "core": self.core, "kind": self.kind, "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes, "flash_origin": self.flash_origin, "ram_origin": self.ram_origin,
            "stack_bytes": self.stack_bytes, "emulated": self.emulated, "emulator": self.emulator.get("kind", ""),
            "machine": self.emulator.get("machine", ""), "emulator_cpu": self.emulator.get("cpu", ""),
            "emulated_by": self.emulated_by, "cc": self.cc, "cflags": list(self.cflags),
            "features": list(self.features), "product": self.product, "description": self.description,
        }


def _int(d: dict[str, Any], key: str, default: int = 0) -> int:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise EdgennError(f"board file: {key} must be a non-negative integer, got {v!r}")
    return v


OPT_LEVELS = ("-O1", "-O2", "-O3", "-Os")
OPTIMIZE_GOALS = ("speed", "size")


def _opt(d: dict[str, Any]) -> str:
    v = d.get("opt", "-O2")
    if v not in OPT_LEVELS:
        raise EdgennError(f"board {d['name']}: opt must be one of {', '.join(OPT_LEVELS)}, got {v!r}")
    return v


def optimized_for(board: Board, goal: str) -> Board:
    """``board`` with the optimization level of ``goal``: "speed" (the board's own level) or "size" (-Os)."""
    if goal not in OPTIMIZE_GOALS:
        raise EdgennError(f"--optimize must be one of {', '.join(OPTIMIZE_GOALS)}, got {goal!r}")
    return board if goal == "speed" else replace(board, opt="-Os")


#: The most threads a generated library may use (a Pi has four cores; more only adds switching).
MAX_THREADS = 16


def with_threads(board: Board, threads: int) -> Board:
    """``board`` whose generated libraries run their large layers on ``threads`` threads (pthreads:
    Linux and host boards only); 1 leaves the board as it is."""
    if threads == 1:
        return board
    if not 1 <= threads <= MAX_THREADS:
        raise EdgennError(f"--threads must be 1..{MAX_THREADS}, got {threads}")
    if board.kind == "baremetal":
        raise EdgennError(f"--threads {threads}: {board.name} is a microcontroller without threads; "
                          "threads are for Linux boards (e.g. rpi4) and the host")
    return replace(board, threads=threads, cflags=board.cflags + (f"-DENN_THREADS={threads}", "-pthread"),
                   ldflags=board.ldflags + ("-pthread",))


def _raw(path: Path) -> dict[str, Any]:
    try:
        d = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise EdgennError(f"board file {path.name}: {e}") from None
    for key in ("name", "core", "kind", "cc"):
        if key not in d:
            raise EdgennError(f"board file {path.name}: missing '{key}'")
    if d["kind"] not in KINDS:
        raise EdgennError(f"board file {path.name}: kind must be one of {', '.join(KINDS)}")
    if d["name"] != path.stem:
        raise EdgennError(f"board file {path.name}: name {d['name']!r} must match the file name")
    return d


def _build(d: dict[str, Any], raw: dict[str, dict[str, Any]]) -> Board:
    name = d["name"]
    mem = d.get("memory", {})
    emulator = dict(d.get("emulator", {}))
    emulated_by = d.get("emulated_by", "")
    emu_mem: dict[str, Any] = {}
    if emulated_by:
        base = raw.get(emulated_by)
        if base is None:
            raise EdgennError(f"board {name}: emulated_by {emulated_by!r} is not a known board")
        if base.get("emulated_by"):
            raise EdgennError(f"board {name}: emulated_by {emulated_by!r} must be a QEMU machine board")
        if base["kind"] != d["kind"]:
            raise EdgennError(f"board {name}: emulated_by {emulated_by!r} is a {base['kind']} board")
        # The machine's emulator settings, and its memory map for linking the QEMU firmware.
        emulator = {**base.get("emulator", {}), **emulator}
        emu_mem = base.get("memory", {})
    emu_mem = {**emu_mem, **{k: v for k, v in emulator.items() if k in
                            ("flash_origin", "flash_bytes", "ram_origin", "ram_bytes")}}
    emulator = {k: v for k, v in emulator.items() if k not in ("flash_origin", "flash_bytes", "ram_origin", "ram_bytes")}
    if emulator.get("kind", "") not in EMULATORS:
        raise EdgennError(f"board {name}: unknown emulator kind {emulator.get('kind')!r}")
    flash_origin, flash_bytes = _int(mem, "flash_origin"), _int(mem, "flash_bytes")
    ram_origin, ram_bytes = _int(mem, "ram_origin"), _int(mem, "ram_bytes")
    emu_map = None
    if d["kind"] == "baremetal":
        if not flash_bytes or not ram_bytes:
            raise EdgennError(f"board {name}: a bare-metal board needs [memory] flash_bytes and ram_bytes")
        if emulator.get("kind") == "qemu-system-arm":
            e = {k: _int(emu_mem, k, v) for k, v in (("flash_origin", flash_origin), ("flash_bytes", flash_bytes),
                                                    ("ram_origin", ram_origin), ("ram_bytes", ram_bytes))}
            if flash_bytes > e["flash_bytes"] or ram_bytes > e["ram_bytes"]:
                raise EdgennError(f"board {name}: its memory ({flash_bytes} B flash, {ram_bytes} B RAM) is larger than "
                                  f"the emulated machine's ({e['flash_bytes']} B, {e['ram_bytes']} B)")
            emu_map = MemoryMap(e["flash_origin"], flash_bytes, e["ram_origin"], ram_bytes)
    return Board(
        name=name, description=d.get("description", ""), core=d["core"], kind=d["kind"], cc=d["cc"],
        cflags=tuple(d.get("cflags", [])), flash_origin=flash_origin, flash_bytes=flash_bytes,
        ram_origin=ram_origin, ram_bytes=ram_bytes, stack_bytes=_int(mem, "stack_bytes", 8192),
        features=tuple(d.get("features", [])), emulator=emulator, ldflags=tuple(d.get("ldflags", [])),
        emulated_by=emulated_by, emu_map=emu_map, product=d.get("product", ""), url=d.get("url", ""),
        clock_hz=_int(d, "clock_hz"), opt=_opt(d))


@lru_cache(maxsize=None)
def all_boards() -> dict[str, Board]:
    raw = {}
    for p in sorted(HERE.glob("*.toml")):
        d = _raw(p)
        raw[d["name"]] = d
    return {name: _build(d, raw) for name, d in raw.items()}


def get_board(name: str | None) -> Board:
    """A board by name; None means the host computer."""
    name = name or HOST
    boards = all_boards()
    if name not in boards:
        raise EdgennError(f"unknown board {name!r}; known boards: {', '.join(sorted(boards))} (see `edgenn boards`)")
    return boards[name]
