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
from edgenn.emulation import cycles
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


def plugin_args(elf: Path, board: Board, out: Path, layers: bool, classes: bool = False) -> list[str]:
    syms = symbols(elf, board)
    keys = ["begin", "end"] + (["layer_begin", "layer_end"] if layers else [])
    missing = [MARKERS[k] for k in keys if MARKERS[k] not in syms]
    if missing:
        raise EdgennError(f"{elf.name} has no {', '.join(missing)}: it was not built by edgenn's harness")
    spec = ",".join([str(plugin_path())] + [f"{k}={syms[MARKERS[k]] & ~1:#x}" for k in keys] + [f"out={out}"]
                    + (["classes=1"] if classes else []))
    return ["-plugin", spec]


def count(build: be.BuildResult, data: bytes, n: int, layers: bool, timeout: float = be.DEFAULT_TIMEOUT,
          classes: list | None = None) -> tuple[be.RunOutput, list[list[int]]]:
    """Run a built firmware/runner with the plugin; per inference: [total, layer 0, layer 1, ...].
    With a list for ``classes``, the plugin also counts instruction classes: one entry per
    inference is appended to it, a list of {class name: count} dicts (the inference, then each layer)."""
    if not build.board.emulated:
        raise EdgennError(f"board {build.board.name} has no emulator: instruction counts need QEMU")
    with tempfile.TemporaryDirectory(prefix="edgenn-icount-") as tmp:
        out = Path(tmp) / "counts.txt"
        res = be.run_raw(build, data, timeout=timeout,
                         plugin=plugin_args(build.binary, build.board, out, layers, classes is not None))
        if not out.exists():
            raise EdgennError(f"{build.board.name}: the QEMU plugin wrote no counts")
        lines = [line for line in out.read_text().splitlines() if line and not line.startswith("total")]
    names: list[str] = []
    rows = []
    for line in lines:
        if not line.startswith("classes"):
            rows.append([int(v) for v in line.split()])
        elif not names:
            names = line.split()[1:]
        elif classes is not None:
            vals = [int(v) for v in line.split()[1:]]
            classes.append([dict(zip(names, vals[i:i + len(names)])) for i in range(0, len(vals), len(names))])
    if len(rows) != n:
        raise EdgennError(f"{build.board.name}: the plugin saw {len(rows)} inferences, expected {n}")
    return res, rows


def process_instructions(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 600.0) -> int:
    """All instructions a whole QEMU user-mode process executes (``cmd[0]`` is qemu-aarch64 or
    qemu-arm): the plugin without markers. For timing other runtimes (bench/litert_pi.py) by the
    difference of two runs. Address-space randomization is turned off (setarch -R) where it can be:
    with it, where the guest's memory lands changes what the process executes by thousands of
    instructions from run to run."""
    fixed = ["setarch", "-R"] if shutil.which("setarch") else []
    with tempfile.TemporaryDirectory(prefix="edgenn-icount-") as tmp:
        out = Path(tmp) / "counts.txt"
        r = subprocess.run([*fixed, cmd[0], "-plugin", f"{plugin_path()},out={out}", *cmd[1:]], env=env,
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0:
            raise EdgennError(f"{Path(cmd[0]).name} {' '.join(cmd[1:3])} ... failed: {r.stderr.strip()[-500:]}")
        lines = out.read_text().splitlines() if out.exists() else []
    totals = [int(line.split()[1]) for line in lines if line.startswith("total ")]
    if not totals:
        raise EdgennError(f"{Path(cmd[0]).name}: the QEMU plugin wrote no total")
    return totals[0]


def _mean_counts(samples: list[dict[str, int]]) -> dict[str, float]:
    """The mean of each class count over the samples."""
    return {k: float(np.mean([c[k] for c in samples])) for k in samples[0]}


def _per_mac(instructions: float, macs: int) -> float | None:
    return round(instructions / macs, 3) if macs else None


def profile(model: EnnModel, inputs: list[np.ndarray], board: str | Board, directory: Path | None = None,
            layers: bool = True, timeout: float = be.DEFAULT_TIMEOUT) -> dict[str, Any]:
    """Instructions per inference (and per layer) of ``model`` on ``board`` for int8 ``inputs``.

    Returns a dict with ``instructions`` (per inference; the mean over the samples, which only
    differ where a kernel's work depends on the data), ``per_sample``, ``macs``,
    ``instructions_per_mac``, ``layers`` (op, name, instructions, macs, instructions_per_mac)
    and ``outputs`` (the int8 outputs of the run, for checking them against the reference).
    On a core with a timing table (emulation/cycles.py) also ``instruction_classes`` (mean counts
    per class), ``estimated_cycles``, ``estimated_ms`` (at the board's clock, None without one)
    and each layer's ``estimated_cycles``: estimates, not measurements.
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
        # Instruction classes for the cycle estimate, where the core has a timing table.
        classes: list | None = [] if cycles.has_estimate(b.core) else None
        layer_classes: list | None = [] if classes is not None else None
        res, rows = count(plain, data, n, layers=False, timeout=timeout, classes=classes)
        if res.data is None:
            raise EdgennError(f"{b.name}: the run wrote no outputs.bin")
        outputs = be.unpack_outputs(model, res.data, n)
        per_sample = [r[0] for r in rows]
        layer_rows: list[list[int]] = []
        if layers and model.ops:
            prof = be.build(model, b, root / "profile", cflags=f"-D{model.name.upper()}_PROFILE")
            res2, layer_rows = count(prof, data, n, layers=True, timeout=timeout, classes=layer_classes)
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
    if classes:
        mix = _mean_counts([c[0] for c in classes])
        est = cycles.estimate(mix, b.core)
        rep.update({"instruction_classes": mix, "estimated_cycles": int(round(est)),
                    "estimated_ms": cycles.milliseconds(est, b.clock_hz), "clock_hz": b.clock_hz})
    if layer_rows:
        arr = np.asarray(layer_rows, dtype=np.int64)[:, 1:]
        means = arr.mean(axis=0)
        for i, op in enumerate(model.ops):
            rep["layers"].append({
                "index": i, "op": op.type, "name": op.name, "instructions": int(round(float(means[i]))),
                "macs": int(op.macs), "instructions_per_mac": _per_mac(float(means[i]), int(op.macs)),
                "share": round(float(means[i]) / mean, 4) if mean else 0.0,
            })
            if layer_classes:
                mix = _mean_counts([c[1 + i] for c in layer_classes])
                rep["layers"][-1].update({"instruction_classes": mix,
                                          "estimated_cycles": int(round(cycles.estimate(mix, b.core)))})
        rep["other_instructions"] = int(round(mean - float(means.sum())))
    return rep


def default_inputs(model: EnnModel, n: int = 1, seed: int = 0) -> list[np.ndarray]:
    """Random inputs of each input's dtype (fixed seed), for profiling without data."""
    rng = np.random.default_rng(seed)
    return [dataio.random_values(rng, model.tensors[d.tensor].dtype, (n,) + tuple(model.tensors[d.tensor].shape))
            for d in model.inputs]
