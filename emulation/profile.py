"""Deterministic instruction counts: the model's firmware (or Pi runner) under QEMU with edgenn's
TCG plugin (emulation/plugin/icount.c).

QEMU has no timing model, so wall time says little; the number of executed guest instructions is
exact and the same on every run. `profile()` builds the model twice for a board:

- as the user gets it, and counts the instructions of each inference (between the harness's
  edgenn_marker_begin/end calls);
- with -D<P>PROFILE, whose layer hooks call edgenn_marker_layer_begin/end, and counts each layer.

The plugin is compiled lazily, once, into the cache (``$XDG_CACHE_HOME/edgenn`` or
``~/.cache/edgenn``) from ``qemu-plugin.h``, which Debian does not package: ``make setup``
(scripts/setup.sh) takes it from Debian's own qemu source package.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from edgenn.boards import Board, get_board
from edgenn.emulation import backends as be
from edgenn.errors import EdgennError, ToolchainError
from edgenn.format.enn import EnnModel
from edgenn.runtime_py import dataio

PLUGIN_SRC = Path(__file__).resolve().parent / "plugin" / "icount.c"
MARKERS = {"begin": "edgenn_marker_begin", "end": "edgenn_marker_end",
           "layer_begin": "edgenn_marker_layer_begin", "layer_end": "edgenn_marker_layer_end"}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edgenn"


def plugin_header() -> Path:
    """qemu-plugin.h: $EDGENN_QEMU_PLUGIN_H, the copy `make setup` extracted, or a system one."""
    env = os.environ.get("EDGENN_QEMU_PLUGIN_H")
    candidates = [Path(env)] if env else []
    candidates += [cache_dir() / "qemu-plugin" / "qemu-plugin.h", Path("/usr/include/qemu/qemu-plugin.h"),
                   Path("/usr/local/include/qemu/qemu-plugin.h")]
    for c in candidates:
        if c.is_file():
            return c
    raise ToolchainError("qemu-plugin.h not found (Debian does not package it): run `make setup`, which takes it "
                         "from Debian's qemu source package, or set EDGENN_QEMU_PLUGIN_H")


def plugin_path() -> Path:
    """The compiled plugin, built on first use (and again when its source or header changes)."""
    header = plugin_header()
    key = hashlib.sha256(PLUGIN_SRC.read_bytes() + header.read_bytes()).hexdigest()[:16]
    target = cache_dir() / "plugin" / f"libedgenn-icount-{key}.so"
    if target.is_file():
        return target
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise ToolchainError("gcc not found: needed to build the instruction-counting plugin (make setup)")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".icount-", suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-std=c99", "-Wall", "-Wextra", "-I", str(header.parent),
                            str(PLUGIN_SRC), "-o", tmp], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise ToolchainError(f"building the QEMU plugin failed:\n{r.stderr.strip()[-2000:]}")
        os.replace(tmp, target)  # atomic: concurrent builders all end with a complete file
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def symbols(elf: Path, board: Board) -> dict[str, int]:
    """Addresses of the global functions of ``elf`` (the board toolchain's nm)."""
    nm = board.tool_prefix + "nm"
    try:
        r = subprocess.run([nm, str(elf)], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise ToolchainError(f"{nm} not found (make setup installs the toolchains)") from None
    if r.returncode != 0:
        raise ToolchainError(f"{nm} {elf} failed: {r.stderr.strip()[:300]}")
    res = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtWw":
            res[parts[2]] = int(parts[0], 16)
    return res


def plugin_args(elf: Path, board: Board, out: Path, layers: bool) -> list[str]:
    syms = symbols(elf, board)
    keys = ["begin", "end"] + (["layer_begin", "layer_end"] if layers else [])
    missing = [MARKERS[k] for k in keys if MARKERS[k] not in syms]
    if missing:
        raise EdgennError(f"{elf.name} has no {', '.join(missing)}: it was not built by edgenn's harness")
    spec = ",".join([str(plugin_path())] + [f"{k}={syms[MARKERS[k]] & ~1:#x}" for k in keys] + [f"out={out}"])
    return ["-plugin", spec]


def count(build: be.BuildResult, data: bytes, n: int, layers: bool, timeout: float = be.DEFAULT_TIMEOUT
          ) -> tuple[be.RunOutput, list[list[int]]]:
    """Run a built firmware/runner with the plugin; per inference: [total, layer 0, layer 1, ...]."""
    if not build.board.emulated:
        raise EdgennError(f"board {build.board.name} has no emulator: instruction counts need QEMU")
    with tempfile.TemporaryDirectory(prefix="edgenn-icount-") as tmp:
        out = Path(tmp) / "counts.txt"
        res = be.run_raw(build, data, timeout=timeout, plugin=plugin_args(build.binary, build.board, out, layers))
        if not out.exists():
            raise EdgennError(f"{build.board.name}: the QEMU plugin wrote no counts")
        rows = [[int(v) for v in line.split()] for line in out.read_text().splitlines()
                if line and not line.startswith("total")]
    if len(rows) != n:
        raise EdgennError(f"{build.board.name}: the plugin saw {len(rows)} inferences, expected {n}")
    return res, rows


def _per_mac(instructions: float, macs: int) -> float | None:
    return round(instructions / macs, 3) if macs else None


def profile(model: EnnModel, inputs: list[np.ndarray], board: str | Board, directory: Path | None = None,
            layers: bool = True, timeout: float = be.DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Instructions per inference (and per layer) of ``model`` on ``board`` for int8 ``inputs``.

    Returns a dict with ``instructions`` (per inference; the mean over the samples, which only
    differ where a kernel's work depends on the data), ``per_sample``, ``macs``,
    ``instructions_per_mac``, ``layers`` (op, name, instructions, macs, instructions_per_mac)
    and ``outputs`` (the int8 outputs of the run, for checking them against the reference).
    """
    b = get_board(board) if isinstance(board, str) else board
    if not b.emulated:
        raise EdgennError(f"board {b.name} has no emulator; instruction counts need one of the emulated boards "
                          "(see `edgenn boards`)")
    n = be.check_inputs(model, inputs)
    if n == 0:
        raise EdgennError("instruction counts need at least one input sample")
    data = be.pack_inputs(model, inputs)
    plugin_path()  # fail early, before building, if the plugin cannot be had
    with tempfile.TemporaryDirectory(prefix="edgenn-profile-") as tmp:
        root = Path(directory) if directory is not None else Path(tmp)
        plain = be.build(model, b, root / "plain")
        res, rows = count(plain, data, n, layers=False, timeout=timeout)
        if res.data is None:
            raise EdgennError(f"{b.name}: the run wrote no outputs.bin")
        outputs = be.unpack_outputs(model, res.data, n)
        per_sample = [r[0] for r in rows]
        layer_rows: list[list[int]] = []
        if layers and model.ops:
            prof = be.build(model, b, root / "profile", cflags=f"-D{model.name.upper()}_PROFILE")
            res2, layer_rows = count(prof, data, n, layers=True, timeout=timeout)
            if res2.data != res.data:
                raise EdgennError(f"{b.name}: the profiling build computed different outputs")
            if any(len(r) != len(model.ops) + 1 for r in layer_rows):
                raise EdgennError(f"{b.name}: the plugin counted {len(layer_rows[0]) - 1} layers, the model has "
                                  f"{len(model.ops)}")
    macs = int(sum(op.macs for op in model.ops))
    mean = float(np.mean(per_sample))
    rep: dict[str, Any] = {
        "model": model.name, "board": b.name, "core": b.core, "samples": n,
        "instructions": int(round(mean)), "instructions_min": int(min(per_sample)),
        "instructions_max": int(max(per_sample)), "per_sample": per_sample, "macs": macs,
        "instructions_per_mac": _per_mac(mean, macs), "layers": [], "outputs": outputs,
    }
    if layer_rows:
        arr = np.asarray(layer_rows, dtype=np.int64)[:, 1:]
        means = arr.mean(axis=0)
        for i, op in enumerate(model.ops):
            rep["layers"].append({
                "index": i, "op": op.type, "name": op.name, "instructions": int(round(float(means[i]))),
                "macs": int(op.macs), "instructions_per_mac": _per_mac(float(means[i]), int(op.macs)),
                "share": round(float(means[i]) / mean, 4) if mean else 0.0,
            })
        rep["other_instructions"] = int(round(mean - float(means.sum())))
    return rep


def default_inputs(model: EnnModel, n: int = 1, seed: int = 0) -> list[np.ndarray]:
    """Random inputs of each input's dtype (fixed seed), for profiling without data."""
    rng = np.random.default_rng(seed)
    return [dataio.random_values(rng, model.tensors[d.tensor].dtype, (n,) + tuple(model.tensors[d.tensor].shape))
            for d in model.inputs]
