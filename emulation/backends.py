"""Run an .enn model's generated C: natively on the host, or as firmware under QEMU.

Each backend generates the project into a temporary directory, builds it with the project's
own Makefile, feeds the inputs as one binary file (samples back to back, inputs of a sample
concatenated), and reads the outputs back the same way.

Failures are EdgennErrors that say why: the runner's and firmware's exit statuses (STATUS), CPU
faults in the firmware (status 128 + exception number, with the faulting pc, its function and the
decoded fault status registers), QEMU aborting on a CPU lockup, and timeouts.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgenn.boards import Board, get_board
from edgenn.codegen.generate import render_model
from edgenn.errors import EdgennError, FitError, ToolchainError
from edgenn.format import enn
from edgenn.runtime_py import dataio
from edgenn.format.enn import EnnModel
from edgenn.progress import step

BACKENDS = ("python", "host", "qemu")

#: Exit statuses of the generated runner (test_app/main_host.c) and firmware (test_app/main_fw.c,
#: test_app/startup.c). Keep in sync with the templates. 128 + N is CPU exception N (firmware).
STATUS = {2: "usage error", 3: "cannot open inputs.bin", 4: "cannot open outputs.bin",
          5: "inputs.bin is not a whole number of samples", 6: "read error on inputs.bin",
          7: "inference failed", 8: "write error on outputs.bin",
          9: "stack overflow (raise stack_bytes in the board file)"}

EXCEPTIONS = {2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault", 7: "SecureFault",
              11: "SVCall", 12: "DebugMonitor", 14: "PendSV", 15: "SysTick"}

# Configurable Fault Status Register bits (v7-M / v8-M Mainline), for fault messages.
CFSR_BITS = {0: "IACCVIOL: instruction fetch from a no-execute region", 1: "DACCVIOL: data access violation",
             3: "MUNSTKERR", 4: "MSTKERR: stacking for an exception", 7: "MMARVALID",
             8: "IBUSERR: instruction fetch bus error", 9: "PRECISERR: data bus error (bad address)",
             10: "IMPRECISERR: imprecise data bus error", 11: "UNSTKERR", 12: "STKERR: stacking for an exception",
             15: "BFARVALID", 16: "UNDEFINSTR: undefined instruction", 17: "INVSTATE: invalid state (Thumb bit)",
             18: "INVPC: invalid EXC_RETURN", 19: "NOCP: coprocessor (FPU) disabled or absent",
             20: "STKOF: stack limit", 24: "UNALIGNED: unaligned access", 25: "DIVBYZERO: division by zero"}

#: Default time limit of one run (a guest stuck in a loop would otherwise run forever).
DEFAULT_TIMEOUT = 300.0


@dataclass
class BuildResult:
    directory: Path
    binary: Path
    board: Board


@dataclass
class RunOutput:
    """What a runner or firmware left behind: outputs.bin (None if absent), status and text."""

    data: bytes | None
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def stack_used(self) -> int | None:
        """Peak stack bytes the firmware used (painted-stack measurement), if it reported it."""
        m = re.search(r"edgenn: stack used (\d+) of \d+ bytes", self.stderr)
        return int(m.group(1)) if m else None


def require_tool(name: str, hint: str) -> str:
    """The path of a command-line tool, or a ToolchainError saying how to get it."""
    path = shutil.which(name)
    if path is None:
        raise ToolchainError(f"{name} not found: {hint}")
    return path


_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")
_DIAGNOSTIC = re.compile(r"(?:^|\s)(?:fatal )?error:|undefined reference|multiple definition|cannot find|No rule to make")


def build_failure(text: str, target: str, directory: Path) -> str:
    """One line that names why building ``target`` failed: the memory regions the linker found too
    small (with the bytes over), else the first compiler or linker error, else make's last line."""
    over: dict[str, int] = {}
    for region, n in _OVERFLOW.findall(text):
        over[region] = max(over.get(region, 0), int(n))
    if over:
        return (f"{target} does not fit: " + ", ".join(f"{r} overflowed by {n:,} B" for r, n in over.items())
                + " (the linker's memory regions in the linker script)")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    first = next((ln for ln in lines if _DIAGNOSTIC.search(ln)), lines[-1] if lines else "no output")
    first = first.replace(str(directory) + "/", "")
    return f"building {target} failed: {first}"


def make(directory: Path, target: str | list[str], extra: list[str] | None = None, timeout: int = 600) -> None:
    """Run the project's Makefile for ``target`` (one or several); a failure is one line
    (ToolchainError, or FitError when the linker's memory regions overflow)."""
    targets = [target] if isinstance(target, str) else list(target)
    cmd = ["make", "-s", "-C", str(directory), *targets] + list(extra or [])
    what = " ".join(targets)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ToolchainError("make not found: install make (make setup does)") from None
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"building {what} in {directory} took more than {timeout} s") from None
    if r.returncode != 0:
        text = r.stdout + r.stderr
        msg = build_failure(text, what, Path(directory))
        raise (FitError if _OVERFLOW.search(text) else ToolchainError)(msg)


def build(model: EnnModel, board: Board, directory: Path, cflags: str = "", check_stack: bool = True) -> BuildResult:
    """Generate and compile the runner (host/linux) or firmware (bare metal) for ``board``.

    ``cflags`` are added to the project's own flags (architecture and warnings are kept). A
    firmware whose deepest stack (gcc -fcallgraph-info=su, from Reset_Handler) exceeds the stack it
    reserves is refused (FitError) unless ``check_stack`` is False: it would overflow at run time.
    """
    if board.kind == "baremetal":
        require_tool(board.cc, "install the Arm GNU toolchain (make setup: apt-get install gcc-arm-none-eabi)")
        target = board.emu_firmware if board.emulated else "firmware.elf"
    else:
        require_tool(board.cc, f"install {board.cc} (make setup)")
        target = "runner"
    render_model(model, directory, board, command=f"edgenn run --board {board.name}")
    firmware = board.kind == "baremetal"
    flags = " ".join(f for f in (cflags, "-fcallgraph-info=su" if firmware else "") if f)
    try:
        with step(f"compiling {model.name} for {board.name}"):
            make(directory, target, [f"CFLAGS={flags}"] if flags else [])
    except FitError as e:
        # The linker only says by how much; the fit check says what the firmware is made of.
        from edgenn.fit import overflow_error

        raise overflow_error(model, board, e) from None
    if firmware and check_stack:
        from edgenn.emulation.size import stack_of
        from edgenn.fit import STACK_GUARD_BYTES, stack_over_message

        need, path, _ = stack_of(directory, "Reset_Handler", board.cc)
        if need > board.stack_bytes - STACK_GUARD_BYTES:
            raise FitError(f"model '{model.name}' does not fit {board.name} (measured): "
                           + stack_over_message(need, path, board.stack_bytes))
    return BuildResult(directory, directory / target, board)


check_inputs = dataio.check_inputs  # validated in one place for every backend


def pack_inputs(model: EnnModel, inputs: list[np.ndarray]) -> bytes:
    """Samples back to back; the inputs of one sample concatenated in order."""
    n = check_inputs(model, inputs)
    rows = [np.ascontiguousarray(x).view(np.uint8).reshape(n, model.tensors[d.tensor].nbytes)
            for x, d in zip(inputs, model.inputs)]
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
        cmd = [require_tool("qemu-system-arm", "install QEMU (make setup: apt-get install qemu-system-arm)"),
               "-M", emu["machine"], *(["-cpu", emu["cpu"]] if emu.get("cpu") else []), *board.emulator_args(),
               "-nographic", "-monitor", "none", "-serial", "none",
               "-semihosting-config", "enable=on,target=native", "-kernel", str(firmware)]
    elif kind in ("qemu-aarch64", "qemu-arm"):
        cmd = [require_tool(kind, "install QEMU user mode (make setup: apt-get install qemu-user)")]
        if emu.get("cpu"):
            cmd += ["-cpu", emu["cpu"]]
        cmd += [str(firmware)]
    else:
        raise EdgennError(f"board {board.name} cannot be emulated here")
    if plugin:
        cmd[1:1] = plugin
    return cmd


def _symbol_at(elf: Path, board: Board, addr: int) -> str:
    """The function containing ``addr`` in ``elf`` (from nm), or ''."""
    nm = board.cc[:-3] + "nm" if board.cc.endswith("gcc") else "nm"
    try:
        r = subprocess.run([nm, "-n", str(elf)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    best = ""
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            a = int(parts[0], 16)
            if a > addr & ~1:
                break
            best = parts[2]
    return best


def _explain_fault(status: int, stderr: str, build_result: BuildResult) -> str:
    exc = status - 128
    text = f"CPU fault: exception {exc} ({EXCEPTIONS.get(exc, 'interrupt' if exc >= 16 else 'reserved')})"
    m = re.search(r"edgenn: fault: .*", stderr)
    if not m:
        return text
    line = m.group(0)
    pc = re.search(r"at pc (0x[0-9A-Fa-f]+)", line)
    if pc:
        sym = _symbol_at(build_result.binary, build_result.board, int(pc.group(1), 16))
        text += f" at pc {pc.group(1)}" + (f" in {sym}()" if sym else "")
    cfsr = re.search(r"cfsr (0x[0-9A-Fa-f]+)", line)
    if cfsr:
        bits = int(cfsr.group(1), 16)
        why = [d for b, d in CFSR_BITS.items() if bits >> b & 1 and not d.endswith("VALID")]
        if why:
            text += "; " + ", ".join(why)
        bfar = re.search(r"bfar (0x[0-9A-Fa-f]+)", line)
        if bits >> 15 & 1 and bfar:
            text += f" at address {bfar.group(1)}"
        mmfar = re.search(r"mmfar (0x[0-9A-Fa-f]+)", line)
        if bits >> 7 & 1 and mmfar:
            text += f" at address {mmfar.group(1)}"
    sp = re.search(r"sp (0x[0-9A-Fa-f]+)", line)
    b = build_result.board
    if sp and not b.ram_origin <= int(sp.group(1), 16) <= b.ram_origin + b.ram_bytes:
        text += " (the stack pointer is outside RAM: probably a stack overflow; raise stack_bytes in the board file)"
    return text + f"\n  {line.strip()}"


def run_raw(build_result: BuildResult, data: bytes | None, timeout: float = DEFAULT_TIMEOUT,
            plugin: list[str] | None = None, check: bool = True) -> RunOutput:
    """Run a built runner/firmware on the raw bytes of inputs.bin (None: no inputs.bin at all).

    With ``check`` a non-zero status raises EdgennError with the decoded reason.
    """
    board = build_result.board
    with tempfile.TemporaryDirectory(prefix="edgenn-run-") as work:
        w = Path(work)
        if data is not None:
            (w / "inputs.bin").write_bytes(data)
        if board.kind == "baremetal":
            cmd = qemu_command(board, build_result.binary, plugin)
        elif board.kind == "linux":
            cmd = qemu_command(board, build_result.binary, plugin) + ["inputs.bin", "outputs.bin"]
        else:
            cmd = [str(build_result.binary), "inputs.bin", "outputs.bin"]
        t0 = time.perf_counter()
        how = "in QEMU" if board.kind != "host" else "natively"
        try:
            with step(f"running on {board.name} ({how})"):
                r = subprocess.run(cmd, cwd=w, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise EdgennError(f"{board.name}: run timed out after {timeout:g} s (the program may be stuck in a loop; "
                              f"command: {' '.join(cmd)})") from None
        seconds = time.perf_counter() - t0
        out = w / "outputs.bin"
        res = RunOutput(out.read_bytes() if out.exists() else None, r.returncode,
                        r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace"), seconds)
    if check and res.returncode != 0:
        raise EdgennError(_failure(build_result, res, cmd))
    return res


def _failure(build_result: BuildResult, res: RunOutput, cmd: list[str]) -> str:
    board = build_result.board
    rc = res.returncode
    what = "firmware" if board.kind == "baremetal" else "runner"
    text = (res.stderr + res.stdout).strip()
    edgenn_lines = [ln for ln in text.splitlines() if ln.startswith("edgenn:") and "stack used" not in ln]
    other = [ln for ln in text.splitlines() if not ln.startswith("edgenn:")]
    if rc < 0:
        sig = -rc
        try:
            signame = signal.Signals(sig).name
        except ValueError:
            signame = f"signal {sig}"
        if board.kind == "baremetal":
            why = (f"{cmd[0].rsplit('/', 1)[-1]} was killed by {signame}"
                   + (" (QEMU aborts on a CPU lockup: a fault while handling a fault, e.g. a bad stack pointer)"
                      if sig == signal.SIGABRT else ""))
            # QEMU's fatal message and the line with the PC, not its whole register dump.
            other = [ln for ln in other if ln.startswith("qemu") or "R15=" in ln]
        else:
            why = f"the {what} crashed with {signame}"
        msg = f"{board.name}: {why}"
    elif board.kind == "baremetal" and rc >= 128:
        msg = f"{board.name}: {what} exited with status {rc}: {_explain_fault(rc, text, build_result)}"
        edgenn_lines = []
    elif rc in STATUS and (edgenn_lines or board.kind == "host"):
        msg = f"{board.name}: {what} exited with status {rc}: {STATUS[rc]}"
    elif board.kind == "baremetal" and not edgenn_lines:
        msg = f"{board.name}: the emulator failed with status {rc} (the firmware did not report an error)"
    else:
        msg = f"{board.name}: {what} exited with status {rc}: {STATUS.get(rc, 'unknown status')}"
    details = edgenn_lines + other[-10:]
    if details:
        msg += "\n  " + "\n  ".join(details)
    return msg


def run_built(build_result: BuildResult, model: EnnModel, inputs: list[np.ndarray],
              timeout: float = DEFAULT_TIMEOUT, plugin: list[str] | None = None) -> list[np.ndarray]:
    """Run a built runner/firmware on inputs (each (N, *shape) int8) and return the outputs."""
    data = pack_inputs(model, inputs)
    n = check_inputs(model, inputs)
    res = run_raw(build_result, data, timeout=timeout, plugin=plugin)
    if res.data is None:
        raise EdgennError(f"{build_result.board.name}: the run succeeded but wrote no outputs.bin")
    return unpack_outputs(model, res.data, n)


def run(model: EnnModel | str | os.PathLike, inputs: list[np.ndarray], backend: str = "python",
        board: str | Board | None = None, keep_dir: str | os.PathLike | None = None,
        timeout: float = DEFAULT_TIMEOUT) -> list[np.ndarray]:
    """Run int8 inputs (each (N, *shape)) through one backend and return int8 outputs.

    backend "python" is runtime_py; "host" compiles the C with gcc and runs it natively; "qemu"
    builds firmware for ``board`` (default mps2-an386) and runs it in QEMU with a ``timeout``.
    ``keep_dir`` keeps the generated, built project there instead of in a temporary directory.
    """
    m = model if isinstance(model, EnnModel) else enn.load(model)
    if backend == "python":
        from edgenn.runtime_py.interpreter import Interpreter

        with step("running the Python reference"):
            return Interpreter(m).invoke(*inputs)
    if backend == "host":
        b = get_board("host")
    elif backend == "qemu":
        b = get_board(board or "mps2-an386") if not isinstance(board, Board) else board
        if not b.emulated or b.kind == "host":
            raise EdgennError(f"board {b.name} has no emulator; choose an emulated board (see `edgenn boards`)")
    else:
        raise EdgennError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    check_inputs(m, inputs)  # before spending time on a build
    if keep_dir is not None:
        d = Path(keep_dir)
        return run_built(build(m, b, d), m, inputs, timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="edgenn-build-") as tmp:
        return run_built(build(m, b, Path(tmp) / m.name), m, inputs, timeout=timeout)


def run_layers(model: EnnModel, inputs: list[np.ndarray], backend: str, board: str | Board | None = None,
               timeout: float = DEFAULT_TIMEOUT) -> dict[int, np.ndarray]:
    """Every layer's output from the generated C (built with -D<NAME>_LAYER_DUMP).

    The harness writes each layer's output tensors, in layer order, ahead of every sample's
    final outputs; returns tensor index -> (N, *shape).
    """
    if backend == "host":
        b = get_board("host")
    elif backend == "qemu":
        b = get_board(board or "mps2-an386") if not isinstance(board, Board) else board
    else:
        raise EdgennError(f"layer dumps come from the C backends (host, qemu), not {backend!r}")
    n = check_inputs(model, inputs)
    layout = [(t, model.tensors[t]) for op in model.ops for t in op.outputs]
    per_sample = sum(t.nbytes for _, t in layout) + sum(model.tensors[d.tensor].nbytes for d in model.outputs)
    with tempfile.TemporaryDirectory(prefix="edgenn-layers-") as tmp:
        res = build(model, b, Path(tmp) / model.name, cflags=f"-D{model.name.upper()}_LAYER_DUMP")
        out = run_raw(res, pack_inputs(model, inputs), timeout=timeout)
    data = out.data or b""
    if len(data) != per_sample * n:
        raise EdgennError(f"{b.name}: layer dump has {len(data)} bytes, expected {per_sample * n}")
    flat = np.frombuffer(data, np.uint8).reshape(n, per_sample)
    result: dict[int, np.ndarray] = {}
    off = 0
    for ti, t in layout:
        result[ti] = flat[:, off:off + t.nbytes].copy().view(t.dtype).reshape((n,) + tuple(t.shape))
        off += t.nbytes
    return result
