"""Op-test harness: single-operator models through the Python kernel and the compiled C kernel.

A case is a one-operator quantized graph (random shapes, parameters and zero points) lowered
to an EnnModel exactly as the converter does it. All cases of a test are generated into one C
program (one model per case, kernels shared), compiled once for the host (run_c_host) or once as
firmware for an emulated board (run_c_firmware: the Cortex-M4 with the DSP extension, the
Cortex-M55 with Helium, ... under qemu-system-arm); every case's outputs must equal runtime_py's
byte for byte.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgenn.boards import Board, get_board
from edgenn.codegen.generate import TEST_APP, render_library, render_model
from edgenn.converter.graph import Graph, IOInfo, QParams
from edgenn.converter.lower import to_enn
from edgenn.emulation import backends
from edgenn.format.enn import EnnModel, from_bytes, to_bytes
from edgenn.runtime_py.dataio import random_values
from edgenn.runtime_py.interpreter import Interpreter

HERE = Path(__file__).resolve().parent
#: gcc flags of every host build of the op tests (and of tests/test_sanitizers.py): ASan + UBSan,
#: the first error ends the program.
SANITIZE = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")
SANITIZE_ENV = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=86", "UBSAN_OPTIONS": "print_stacktrace=1"}


@dataclass
class T:
    """A tensor of a test case: an activation (quant only) or a constant (data + quant)."""

    shape: tuple[int, ...]
    scale: float | np.ndarray = 1.0
    zero_point: int | np.ndarray = 0
    data: np.ndarray | None = None
    dtype: str = "int8"
    axis: int = 0
    variable: bool = False  # a state tensor (recurrent operators); ``data`` is then its initial value

    def qparams(self) -> QParams:
        s = np.atleast_1d(np.asarray(self.scale, np.float32))
        z = np.atleast_1d(np.asarray(self.zero_point, np.int64))
        if z.size == 1 and s.size > 1:
            z = np.zeros(s.size, np.int64) + z[0]
        return QParams(s, z, self.axis)


@dataclass
class Case:
    op_type: str
    inputs: list[T | None]
    outputs: list[T]
    attrs: dict[str, Any] = field(default_factory=dict)
    name: str = "case"
    stateful: bool = False  # state tensors carry over from sample to sample (one stream)


def build_model(case: Case, name: str) -> EnnModel:
    """Lower one case to an EnnModel (via the real converter path) and round-trip it through bytes."""
    g = Graph()
    in_names = []
    for i, t in enumerate(case.inputs):
        if t is None:
            in_names.append("")
            continue
        nm = f"in{i}"
        if t.variable:
            tt = g.add_tensor(nm, t.shape, t.dtype, None, t.qparams())
            tt.variable, tt.initial = True, t.data
        else:
            g.add_tensor(nm, t.shape, t.dtype, t.data, t.qparams())
        if t.data is None and not t.variable:
            g.inputs.append(IOInfo(nm, nm, t.shape))
        in_names.append(nm)
    out_names = []
    for i, t in enumerate(case.outputs):
        nm = f"out{i}"
        g.add_tensor(nm, t.shape, t.dtype, None, t.qparams())
        g.outputs.append(IOInfo(nm, nm, t.shape))
        out_names.append(nm)
    g.add_op(case.op_type, case.name, in_names, out_names, **case.attrs)
    g.stateful = case.stateful
    model = to_enn(g, name, {"tool_version": "test", "source_format": "test"})
    return from_bytes(to_bytes(model))


def random_inputs(model: EnnModel, n: int, rng: np.random.Generator, extremes: bool = True) -> list[np.ndarray]:
    """n samples per input; for int8 inputs the first two are all -128 and all 127 when ``extremes``
    (bool inputs: all false and all true)."""
    xs = []
    for d in model.inputs:
        t = model.tensors[d.tensor]
        x = random_values(rng, t.dtype, (n,) + tuple(t.shape))
        if extremes and n >= 3 and t.dtype in ("int8", "bool"):
            x[0] = -128 if t.dtype == "int8" else False
            x[1] = 127 if t.dtype == "int8" else True
        xs.append(x)
    return xs


_DRIVER = r"""
#include <stdio.h>
#include <stdint.h>
%(includes)s

typedef int (*invoke_fn)(const int8_t *, int8_t *);
typedef int (*reset_fn)(void);
/* reset: a model with state tensors starts each case from its initial state (NULL: none). */
static const struct { invoke_fn fn; reset_fn reset; unsigned in_bytes, out_bytes; } cases[] = {
%(table)s
};

static int8_t in_buf[%(max_in)d];
static int8_t out_buf[%(max_out)d];

int main(int argc, char **argv)
{
    FILE *fi, *fo;
    unsigned i;
    if (argc != 3) return 2;
    fi = fopen(argv[1], "rb");
    fo = fopen(argv[2], "wb");
    if (!fi || !fo) return 2;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t n, s;
        if (fread(&n, 4, 1, fi) != 1) return 3;
        if (cases[i].reset != 0 && cases[i].reset() != 0) return 4;
        for (s = 0; s < n; s++) {
            if (fread(in_buf, 1, cases[i].in_bytes, fi) != cases[i].in_bytes) return 3;
            if (cases[i].fn(in_buf, out_buf) != 0) return 4;
            fwrite(out_buf, 1, cases[i].out_bytes, fo);
        }
    }
    fclose(fi);
    return fclose(fo) != 0;
}
"""


def _reset(model: EnnModel, arena: bool) -> str:
    """The C reset function of a model with state tensors (of a caller's arena or the static one), or 0."""
    if not model.state_tensors:
        return "0"
    return f"{model.name}_reset_arena" if arena else f"{model.name}_reset"


def _io_bytes(model: EnnModel, which) -> int:
    return sum(model.tensors[d.tensor].nbytes for d in which)


def run_c_host(models: list[EnnModel], inputs: list[list[np.ndarray]], workdir: Path,
               board: "str | Board | None" = None, cflags: tuple[str, ...] = ()) -> list[list[np.ndarray]]:
    """Compile every model into one host program and run each on its inputs; with ``board`` a Linux
    board (e.g. "rpi4"), cross-compiled with its compiler, flags and optimization level (its NEON
    paths) and run in QEMU user mode. ``cflags``: more flags (e.g. a kernel's limit lowered, to
    reach its other path)."""
    host = board if isinstance(board, Board) else get_board(board or "host")
    if board is not None:
        assert host.kind == "linux" and host.emulated, f"{board} is not an emulated Linux board"
        assert shutil.which(host.cc), f"{host.cc} not found (make setup installs it)"
    for m in models:
        render_library(m, workdir / m.name, host, kernel_prefix="enn_", sources_only=True,
                       kernels_dir=workdir / "kernels")
    includes = "\n".join(f'#include "{m.name}/src/{m.name}.h"' for m in models)
    table = ",\n".join(f"    {{ {m.name}_invoke, {_reset(m, False)}, {_io_bytes(m, m.inputs)}u, "
                       f"{_io_bytes(m, m.outputs)}u }}" for m in models)
    (workdir / "driver.c").write_text(_DRIVER % {
        "includes": includes, "table": table,
        "max_in": max(_io_bytes(m, m.inputs) for m in models), "max_out": max(_io_bytes(m, m.outputs) for m in models)})
    # One translation unit for all cases (every symbol is prefixed per model; kernel headers
    # share one prefix and include guard): far faster than compiling hundreds of files.
    unity = ['#include "driver.c"']
    for m in models:
        unity += [f'#include "{m.name}/src/{m.name}.c"', f'#include "{m.name}/src/{m.name}_weights.c"']
    kernels: dict[str, str] = {}
    for m in models:
        for p in sorted((workdir / m.name / "src" / "kernels").glob("*.c")):
            kernels.setdefault(p.name, str(p.relative_to(workdir)))
    (workdir / "unity.c").write_text("\n".join(unity) + "\n")
    if board is None:
        # AddressSanitizer and UBSan on every host case: an out-of-bounds access, signed overflow or
        # bad shift in a kernel ends the run with a report instead of passing by luck.
        cmd = ["gcc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", *SANITIZE, "-o", "driver", "unity.c"]
    else:
        cmd = [host.cc, *host.cflags, host.opt, "-std=c99", "-Wall", "-Wextra", "-Werror", *host.ldflags,
               "-o", "driver", "unity.c"]
    cmd += list(cflags) + list(kernels.values())
    r = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    assert r.returncode == 0, f"C build failed:\n{r.stderr[-3000:]}"
    blob = bytearray()
    for m, xs in zip(models, inputs):
        n = xs[0].shape[0]
        blob += np.uint32(n).tobytes()
        rows = [np.ascontiguousarray(x).reshape(n, -1).view(np.uint8) for x in xs]
        blob += np.concatenate(rows, axis=1).tobytes()
    (workdir / "in.bin").write_bytes(bytes(blob))
    run = ["./driver"] if board is None else backends.qemu_command(host, workdir / "driver")
    r = subprocess.run(run + ["in.bin", "out.bin"], cwd=workdir, capture_output=True, timeout=600,
                       env={**os.environ, **SANITIZE_ENV} if board is None else None)
    assert r.returncode == 0, f"driver failed with {r.returncode}: {r.stderr[-2000:]!r}"
    data = np.frombuffer((workdir / "out.bin").read_bytes(), dtype=np.uint8)
    results, off = [], 0
    for m, xs in zip(models, inputs):
        n = xs[0].shape[0]
        per = _io_bytes(m, m.outputs)
        block = data[off: off + per * n].reshape(n, per)
        off += per * n
        o2, k = [], 0
        for d in m.outputs:
            t = m.tensors[d.tensor]
            o2.append(block[:, k:k + t.nbytes].copy().view(t.dtype).reshape((n,) + tuple(t.shape)))
            k += t.nbytes
        results.append(o2)
    assert off == data.size, f"driver wrote {data.size} bytes, expected {off}"
    return results


_FW_DRIVER = r"""
/* Op-test firmware: every case's samples from in.bin through the case's model, outputs to
 * out.bin, over semihosting (test_app/startup.c: vector table, semihosting calls, exit status). */
#include <stdint.h>
%(includes)s

int32_t fw_semihost(int32_t op, const void *arg);
void fw_print(const char *text);

typedef int (*invoke_fn)(uint8_t *, const int8_t *, int8_t *);
typedef int (*reset_fn)(uint8_t *);
static const struct { invoke_fn fn; reset_fn reset; uint32_t in_bytes, out_bytes; } cases[] = {
%(table)s
};

/* One arena for all cases (each model's own static arena is compiled out). */
static uint8_t arena[%(max_arena)d] __attribute__((aligned(16)));
static int8_t in_buf[%(max_in)d];
static int8_t out_buf[%(max_out)d];

static int32_t fw_file(const char *name, uint32_t len, uint32_t mode)
{
    uint32_t args[3];
    args[0] = (uint32_t)(uintptr_t)name;
    args[1] = mode;
    args[2] = len;
    return fw_semihost(0x01, args); /* SYS_OPEN */
}

/* SYS_READ (0x06) / SYS_WRITE (0x05): 0 when all bytes were transferred. */
static int32_t fw_io(int32_t op, int32_t fd, void *buf, uint32_t len)
{
    uint32_t args[3];
    args[0] = (uint32_t)fd;
    args[1] = (uint32_t)(uintptr_t)buf;
    args[2] = len;
    return fw_semihost(op, args);
}

int main(void)
{
    const int32_t fi = fw_file("in.bin", 6, 1);   /* "rb" */
    const int32_t fo = fw_file("out.bin", 7, 5);  /* "wb" */
    uint32_t i;
    if (fi < 0 || fo < 0) {
        fw_print("driver: cannot open in.bin / out.bin\n");
        return 2;
    }
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t n;
        uint32_t s;
        if (fw_io(0x06, fi, &n, 4) != 0) {
            return 3;
        }
        if (cases[i].reset != 0 && cases[i].reset(arena) != 0) {
            return 4;
        }
        for (s = 0; s < n; s++) {
            if (fw_io(0x06, fi, in_buf, cases[i].in_bytes) != 0) {
                return 3;
            }
            if (cases[i].fn(arena, in_buf, out_buf) != 0) {
                return 4;
            }
            if (fw_io(0x05, fo, out_buf, cases[i].out_bytes) != 0) {
                return 5;
            }
        }
    }
    fw_semihost(0x02, &fi); /* SYS_CLOSE */
    fw_semihost(0x02, &fo);
    return 0;
}
"""


def _pack_inputs(inputs: list[list[np.ndarray]]) -> bytes:
    blob = bytearray()
    for xs in inputs:
        n = xs[0].shape[0]
        blob += np.uint32(n).tobytes()
        rows = [np.ascontiguousarray(x).reshape(n, -1).view(np.uint8) for x in xs]
        blob += np.concatenate(rows, axis=1).tobytes()
    return bytes(blob)


def _unpack_outputs(models: list[EnnModel], inputs: list[list[np.ndarray]], raw: bytes) -> list[list[np.ndarray]]:
    data = np.frombuffer(raw, dtype=np.uint8)
    results, off = [], 0
    for m, xs in zip(models, inputs):
        n = xs[0].shape[0]
        per = _io_bytes(m, m.outputs)
        block = data[off: off + per * n].reshape(n, per)
        off += per * n
        o2, k = [], 0
        for d in m.outputs:
            t = m.tensors[d.tensor]
            o2.append(block[:, k:k + t.nbytes].copy().view(t.dtype).reshape((n,) + tuple(t.shape)))
            k += t.nbytes
        results.append(o2)
    assert off == data.size, f"driver wrote {data.size} bytes, expected {off}"
    return results


def run_firmware(workdir: Path, board, sources: list[str], startup: Path, link: Path, defines: list[str] = (),
                 timeout: float = 300, status: int = 0, opt: str = "-O2") -> None:
    """Compile C sources (relative to workdir) with the board's compiler and flags at ``opt``, link them
    with a generated test application's start-up code and linker script, and run the firmware in
    QEMU from workdir (semihosting files are relative to it); asserts it exits with ``status``."""
    from edgenn.emulation import backends as be

    flags = list(board.cflags) + [opt, "-std=c99", "-Wall", "-Wextra", "-Werror", "-ffunction-sections",
                                  "-fdata-sections"]
    objs = []
    for i, src in enumerate(list(sources) + [str(startup)]):
        obj = f"o{i}.o"
        extra = ["-ffreestanding"] if src == str(startup) else []
        r = subprocess.run([board.cc] + flags + extra + list(defines) + ["-c", src, "-o", obj], cwd=workdir,
                           capture_output=True, text=True)
        assert r.returncode == 0, f"firmware build failed ({src}):\n{r.stderr[-3000:]}"
        objs.append(obj)
    r = subprocess.run([board.cc] + flags + ["-nostdlib", "-nostartfiles", "-Wl,--gc-sections", "-T", str(link)]
                       + objs + ["-lgcc", "-o", "fw.elf"], cwd=workdir, capture_output=True, text=True)
    assert r.returncode == 0, f"firmware link failed:\n{r.stderr[-3000:]}"
    r = subprocess.run(be.qemu_command(board, workdir / "fw.elf"), cwd=workdir, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == status, (f"{board.name} firmware exited with {r.returncode}, expected {status}: "
                               f"{(r.stderr + r.stdout).decode(errors='replace')[-2000:]}")


def firmware_harness(board, workdir: Path, model: EnnModel) -> tuple[Path, Path]:
    """startup.c and the linker script of the generated test application (test_app/) for ``board``."""
    render_model(model, workdir / "fw", board, kernel_prefix="enn_", harness=True)
    app = workdir / "fw" / TEST_APP
    return app / "startup.c", app / ("link_qemu.ld" if board.separate_emu_firmware else "link.ld")


def run_c_firmware(models: list[EnnModel], inputs: list[list[np.ndarray]], workdir: Path,
                   board: str = "mps2-an386", timeout: float = 300, opt: str = "-O2") -> list[list[np.ndarray]]:
    """Like run_c_host, as bare-metal firmware for an emulated board (qemu-system-arm, semihosting).

    The kernels are built with the board's own compiler and flags at the generated Makefile's
    level (-O2, or ``opt``: -Os takes the kernels' size paths), so they take the board's code paths
    (DSP, Helium); the start-up code and linker
    script are the generated test application's (templates/test_app)."""
    b = get_board(board)
    assert b.kind == "baremetal" and b.emulated, f"{board} is not an emulated bare-metal board"
    for tool in (b.cc, "qemu-system-arm"):
        assert shutil.which(tool), f"{tool} not found (make setup installs it)"
    for m in models:
        render_library(m, workdir / m.name, b, kernel_prefix="enn_", sources_only=True,
                       kernels_dir=workdir / "kernels")
    # The generated test application of the first case supplies startup.c and the linker script.
    _, link = firmware_harness(b, workdir, models[0])
    includes = "\n".join(f'#include "{m.name}/src/{m.name}.h"' for m in models)
    table = ",\n".join(f"    {{ {m.name}_invoke_arena, {_reset(m, True)}, {_io_bytes(m, m.inputs)}u, "
                       f"{_io_bytes(m, m.outputs)}u }}" for m in models)
    (workdir / "driver.c").write_text(_FW_DRIVER % {
        "includes": includes, "table": table, "max_arena": max(max(m.arena_bytes for m in models), 4),
        "max_in": max(_io_bytes(m, m.inputs) for m in models),
        "max_out": max(_io_bytes(m, m.outputs) for m in models)})
    unity = ['#include "driver.c"']
    for m in models:
        unity += [f'#include "{m.name}/src/{m.name}.c"', f'#include "{m.name}/src/{m.name}_weights.c"']
    (workdir / "unity.c").write_text("\n".join(unity) + "\n")
    kernels: dict[str, str] = {}
    for m in models:
        for p in sorted((workdir / m.name / "src" / "kernels").glob("*.c")):
            kernels.setdefault(p.name, str(p.relative_to(workdir)))
    defines = [f"-D{m.name.upper()}_NO_STATIC_ARENA" for m in models]
    (workdir / "in.bin").write_bytes(_pack_inputs(inputs))
    run_firmware(workdir, b, ["unity.c"] + list(kernels.values()), link.parent / "startup.c", link, defines,
                 timeout=timeout, opt=opt)
    return _unpack_outputs(models, inputs, (workdir / "out.bin").read_bytes())


def check_cases(cases: list[Case], samples: int = 3, seed: int = 0, keep: str | None = None,
                board: "str | Board | None" = None, opt: str = "-O2", cflags: tuple[str, ...] = ()) -> dict[str, int]:
    """Run all cases through runtime_py and C; assert byte equality. Returns statistics.

    The C runs natively on the host, or with ``board`` (e.g. "mps2-an386", "mps3-an547") as
    firmware under QEMU (built at ``opt``), or as a Linux program in QEMU user mode (e.g. "rpi4",
    "rpi5")."""
    rng = np.random.default_rng(seed)
    models = [build_model(c, f"c{i}") for i, c in enumerate(cases)]
    inputs = [random_inputs(m, samples, rng) for m in models]
    expected = [Interpreter(m).invoke(*xs) for m, xs in zip(models, inputs)]
    work = Path(tempfile.mkdtemp(prefix="edgenn-optest-"))
    try:
        if board is None or (board if isinstance(board, Board) else get_board(board)).kind == "linux":
            got = run_c_host(models, inputs, work, board, cflags)
        else:
            assert not cflags, "extra cflags are for host and Linux builds"
            got = run_c_firmware(models, inputs, work, board, opt=opt)
    finally:
        if keep:
            shutil.copytree(work, keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    stats = {"cases": len(cases), "bytes": 0, "saturated_low": 0, "saturated_high": 0}
    for i, (c, e, g_) in enumerate(zip(cases, expected, got)):
        for k, (a, b) in enumerate(zip(e, g_)):
            if not np.array_equal(a, b):
                bad = np.argwhere(a != b)
                raise AssertionError(
                    f"{'host' if board is None else board}: case {i} ({c.op_type}, attrs {c.attrs}, inputs {[t.shape if t else None for t in c.inputs]}): "
                    f"output {k} differs at {len(bad)} of {a.size} bytes, first at {tuple(bad[0])}: "
                    f"python {a[tuple(bad[0])]} vs C {b[tuple(bad[0])]}")
            stats["bytes"] += a.size
            stats["saturated_low"] += int(np.sum(a == -128))
            stats["saturated_high"] += int(np.sum(a == 127))
    return stats


def judge_tflite(cases: list[tuple[bytes, list[np.ndarray]]], what: str = "") -> int:
    """TFLM == runtime_py == compiled host C, byte for byte, for each (.tflite bytes, int8 inputs).

    Each model is imported with edgenn's TFLite importer; every case is checked in Python first,
    then all cases are compiled into one program. Returns the number of cases.
    """
    from tflite_builder import run_tflm
    from edgenn.converter.tflite_import import convert_tflite_bytes

    models, inputs, want = [], [], []
    for i, (data, xs) in enumerate(cases):
        model = convert_tflite_bytes(data, f"t{i}")
        y_tflm = run_tflm(data, xs)[0]
        y_py = Interpreter(model).invoke(*xs)[0]
        y_tflm = y_tflm.reshape(y_py.shape)
        assert np.array_equal(y_py, y_tflm), (
            f"{what} case {i} ({model.ops[0].type}, options {model.ops[0].options}): python != TFLM at "
            f"{np.argwhere(y_py != y_tflm)[:3].tolist()}")
        models.append(model)
        inputs.append(xs)
        want.append(y_tflm)
    work = Path(tempfile.mkdtemp(prefix="edgenn-tflm-"))
    try:
        got = run_c_host(models, inputs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for i, (g, w) in enumerate(zip(got, want)):
        assert np.array_equal(g[0], w), f"{what} case {i}: edgenn C != TFLM"
    return len(cases)
