"""Run an .enn model's generated C: natively on the host, or as firmware under QEMU.

Each backend generates the project into a temporary directory, builds it with the project's
own Makefile, feeds the inputs as one binary file (samples back to back, inputs of a sample
concatenated), and reads the outputs back the same way.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgenn.boards import Board, get_board
from edgenn.codegen.generate import render_model
from edgenn.errors import EdgennError, ToolchainError
from edgenn.runtime_py import enn
from edgenn.runtime_py.enn import EnnModel

BACKENDS = ("python", "host", "qemu")

FIRMWARE_EXIT = {1: "cannot open inputs.bin", 2: "cannot open outputs.bin", 3: "inference failed",
                 4: "cannot write outputs.bin", 5: "inputs.bin has a partial sample"}


@dataclass
class BuildResult:
    directory: Path
    binary: Path
    board: Board


def _tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolchainError(f"{name} not found: {hint}")
    return path


def make(directory: Path, target: str, extra: list[str] | None = None, timeout: int = 600) -> None:
    cmd = ["make", "-s", "-C", str(directory), target] + list(extra or [])
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise ToolchainError("make not found: install build-essential (make setup does)") from None
    if r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-25:])
        raise ToolchainError(f"building {target} in {directory} failed:\n{tail}")


def build(model: EnnModel, board: Board, directory: Path, cflags: str = "") -> BuildResult:
    """Generate and compile the runner (host/linux) or firmware (bare metal) for ``board``."""
    if board.kind == "baremetal":
        _tool(board.cc, "install the Arm GNU toolchain (make setup: apt-get install gcc-arm-none-eabi)")
        target = "firmware.elf"
    else:
        _tool(board.cc, f"install {board.cc} (make setup)")
        target = "runner"
    render_model(model, directory, board, command=f"edgenn run --board {board.name}")
    extra = [f"CFLAGS={cflags}"] if cflags else []
    make(directory, target, extra)
    return BuildResult(directory, directory / target, board)


def pack_inputs(model: EnnModel, inputs: list[np.ndarray]) -> bytes:
    n = inputs[0].shape[0]
    rows = [np.ascontiguousarray(x).reshape(n, -1).view(np.uint8) for x in inputs]
    return np.concatenate(rows, axis=1).tobytes() if rows else b""


def unpack_outputs(model: EnnModel, data: bytes, n: int) -> list[np.ndarray]:
    outs_t = [model.tensors[d.tensor] for d in model.outputs]
    per = sum(t.nbytes for t in outs_t)
    if len(data) != per * n:
        raise EdgennError(f"backend returned {len(data)} output bytes, expected {per * n} for {n} samples")
    flat = np.frombuffer(data, dtype=np.uint8).reshape(n, per)
    res, off = [], 0
    for t in outs_t:
        res.append(flat[:, off:off + t.nbytes].copy().view(t.dtype).reshape((n,) + tuple(t.shape)))
        off += t.nbytes
    return res


def qemu_command(board: Board, firmware: Path, plugin: list[str] | None = None) -> list[str]:
    emu = board.emulator
    kind = emu.get("kind", "")
    if kind == "qemu-system-arm":
        cmd = [_tool("qemu-system-arm", "install QEMU (make setup: apt-get install qemu-system-arm)"),
               "-M", emu["machine"], "-nographic", "-monitor", "none", "-serial", "none",
               "-semihosting-config", "enable=on,target=native", "-kernel", str(firmware)]
        if emu.get("cpu"):
            cmd[3:3] = ["-cpu", emu["cpu"]]
    elif kind in ("qemu-aarch64", "qemu-arm"):
        cmd = [_tool(kind, "install QEMU user mode (make setup: apt-get install qemu-user)")]
        if emu.get("cpu"):
            cmd += ["-cpu", emu["cpu"]]
        cmd += [str(firmware)]
    else:
        raise EdgennError(f"board {board.name} cannot be emulated here")
    if plugin:
        cmd[1:1] = plugin
    return cmd


def run_built(build_result: BuildResult, model: EnnModel, inputs: list[np.ndarray], timeout: float = 600,
              plugin: list[str] | None = None) -> list[np.ndarray]:
    """Run a built runner/firmware on inputs (each (N, *shape) int8) and return the outputs."""
    n = inputs[0].shape[0]
    board = build_result.board
    with tempfile.TemporaryDirectory(prefix="edgenn-run-") as work:
        w = Path(work)
        (w / "inputs.bin").write_bytes(pack_inputs(model, inputs))
        if board.kind == "baremetal":
            cmd = qemu_command(board, build_result.binary, plugin)
        elif board.kind == "linux":
            cmd = qemu_command(board, build_result.binary, plugin) + ["inputs.bin", "outputs.bin"]
        else:
            cmd = [str(build_result.binary), "inputs.bin", "outputs.bin"]
        try:
            r = subprocess.run(cmd, cwd=w, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise EdgennError(f"{board.name}: run timed out after {timeout:.0f} s") from None
        if r.returncode != 0:
            why = FIRMWARE_EXIT.get(r.returncode, "")
            if r.returncode >= 128 and board.kind == "baremetal":
                why = f"CPU fault (exception {r.returncode - 128})"
            err = (r.stderr.decode(errors="replace") + r.stdout.decode(errors="replace")).strip()[-400:]
            raise EdgennError(f"{board.name}: run failed with status {r.returncode} {why} {err}".strip())
        out = w / "outputs.bin"
        data = out.read_bytes() if out.exists() else b""
    return unpack_outputs(model, data, n)


def run(model: EnnModel | str | os.PathLike, inputs: list[np.ndarray], backend: str = "python",
        board: str | Board | None = None, keep_dir: str | os.PathLike | None = None) -> list[np.ndarray]:
    """Run int8 inputs (each (N, *shape)) through one backend and return int8 outputs."""
    m = model if isinstance(model, EnnModel) else enn.load(model)
    if backend == "python":
        from edgenn.runtime_py.interpreter import Interpreter

        return Interpreter(m).invoke(*inputs)
    if backend == "host":
        b = get_board("host")
    elif backend == "qemu":
        b = get_board(board or "mps2-an386") if not isinstance(board, Board) else board
        if not b.emulated or b.kind == "host":
            raise EdgennError(f"board {b.name} has no emulator; choose an emulated board (see `edgenn boards`)")
    else:
        raise EdgennError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if keep_dir is not None:
        d = Path(keep_dir)
        return run_built(build(m, b, d), m, inputs)
    with tempfile.TemporaryDirectory(prefix="edgenn-build-") as tmp:
        return run_built(build(m, b, Path(tmp) / m.name), m, inputs)
