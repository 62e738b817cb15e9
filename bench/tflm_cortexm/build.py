"""TFLM (TensorFlow Lite Micro) built for the emulated Cortex-M4 and Cortex-M55, and counted with
edgenn's QEMU plugin: the other side of the instruction comparisons in docs/benchmarks.md.

    python bench/tflm_cortexm/build.py MODEL.tflite [--variant reference|cmsis_nn] [--board mps2-an386]
    python bench/tflm_cortexm/build.py --validate      # the MLPerf Tiny models vs their README figures

What it does:

1. Sources: TFLM, CMSIS-NN, CMSIS_6 (Core headers), flatbuffers, gemmlowp (fixed-point headers) and
   ruy (one profiler header) at the commits in PINNED, exported from the git directories that the
   `fetch` tool mirrors under /work/.mirror (``--mirror``), or from checkouts given with --tflm,
   --cmsis-nn, --cmsis, --flatbuffers, --gemmlowp, --ruy. Exported trees are cached under
   build/tflm_cortexm/src; TFLM's flatbuffers.patch is applied to flatbuffers as TFLM's own
   download script does. Nothing is copied into the repository.
2. Library: TFLM's library sources as its Makefile (tools/make/sources.inc) lists them
   (tensorflow/lite/micro/*.cc without tests, arena_allocator, memory_planner, tflite_bridge, the
   shared tensorflow/lite and schema sources, and the kernels of MICROLITE_CC_KERNEL_SRCS); for
   the cmsis_nn variant the kernels/cmsis_nn/*.cc replace the reference kernels of the same name
   and CMSIS-NN's int8/int16 sources are added (what TFLM's OPTIMIZED_KERNEL_DIR=cmsis_nn does).
   Left out: the signal-processing kernels (they need kissfft) and debug_log.cc (main.cc logs
   through semihosting). All compiled with arm-none-eabi-gcc at -O2 with TFLM's flags for
   cortex_m_generic (-DTF_LITE_STATIC_MEMORY, -fno-rtti, -fno-exceptions, ...), at most ``--jobs``
   (2) at a time, objects cached per flag set.
3. Firmware: main.cc (MicroInterpreter with a MicroMutableOpResolver of the model's operators)
   with the .tflite and its inputs embedded as byte arrays, plus edgenn's own bare-metal pieces,
   rendered from templates/test_app (startup.c: vector table, FPU, semihosting, fault reports;
   link.ld: the board's memory map; markers.c: edgenn_marker_begin/end). newlib supplies libc and
   libm (TFLM's Prepare needs frexp, exp, ...): the startup's byte-wise memcpy/memset are renamed
   away so that TFLM gets newlib's, as on a real device.
4. Run: QEMU with edgenn's instruction-counting plugin (emulation/profile.py count()), which counts
   the instructions between edgenn_marker_begin() and edgenn_marker_end(): main.cc calls them
   around each Invoke(), as edgenn's harness does around each inference. The firmware prints each
   output tensor's bytes through semihosting; they are compared with the tflite-micro package.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CACHE = ROOT / "build" / "tflm_cortexm"
MIRROR = Path(os.environ.get("TFLM_CORTEXM_MIRROR", "/work/.mirror"))

#: name -> (GitHub repository, commit). TFLM 90b983c and CMSIS-NN 4ab83cc are the commits of the
#: figures in tests/data/mlperf_tiny/README.md; the others are what that TFLM commit pins
#: (tools/make/third_party_downloads.inc, ext_libs/cmsis_download.sh, flatbuffers_download.sh).
PINNED = {
    "tflm": ("tensorflow/tflite-micro", "90b983c2b"),
    "cmsis_nn": ("ARM-software/CMSIS-NN", "4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae"),
    "cmsis": ("ARM-software/CMSIS_6", "5782d6f8057906d360f4b95ec08a2354afe5c9b9"),
    "flatbuffers": ("google/flatbuffers", "v25.9.23"),
    "gemmlowp": ("google/gemmlowp", "719139ce755a0f31cbf1c37f7f98adcc7fc9f425"),
    "ruy": ("google/ruy", "d37128311b445e758136b8602d1bbd2a755e115d"),
}

VARIANTS = ("reference", "cmsis_nn")
BOARDS = {"mps2-an386": "M4", "mps3-an547": "M55"}
CC, CXX, AR = "arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-ar"
OPT = "-O2"

# TFLM's flags (tools/make/Makefile COMMON_FLAGS, CXXFLAGS; targets/cortex_m_generic_makefile.inc
# PLATFORM_FLAGS; ext_libs/cmsis_nn.inc), without its warnings, for its BUILD_TYPE=release_with_logs
# (-DNDEBUG: no TFLITE_DCHECKs in the kernels' inner loops; TFLM's advice for profiling. The default
# build's checks make the reference kernels 4.6 times slower: KWS 198.6 M instead of 43.2 M).
COMMON = ["-mthumb", "-mlittle-endian", "-funsigned-char", "-fomit-frame-pointer", "-fno-unwind-tables",
          "-fno-asynchronous-unwind-tables", "-ffunction-sections", "-fdata-sections", "-fmessage-length=0",
          "-DTF_LITE_STATIC_MEMORY", "-DTF_LITE_DISABLE_X86_NEON", "-DTF_LITE_MCU_DEBUG_LOG",
          "-DKERNELS_OPTIMIZED_FOR_SPEED", "-DNDEBUG", "-DARM_NN_ENABLE_F16=0", "-DARM_NN_ENABLE_F32=0",
          "-DFLATBUFFERS_LOCALE_INDEPENDENT=0"]
CXX_ONLY = ["-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"]
C_ONLY = ["-std=c17"]


class BuildError(RuntimeError):
    """A step of the TFLM build failed; the message says which and why in one line."""


@dataclass(frozen=True)
class Sources:
    """Root directories of the six source trees."""

    tflm: Path
    cmsis_nn: Path
    cmsis: Path
    flatbuffers: Path
    gemmlowp: Path
    ruy: Path

    def includes(self) -> list[str]:
        dirs = [self.tflm, self.flatbuffers / "include", self.gemmlowp, self.ruy, self.cmsis,
                self.cmsis / "CMSIS" / "Core" / "Include", self.cmsis_nn, self.cmsis_nn / "Include"]
        return [f"-I{d}" for d in dirs]


def core_flags(board: str) -> list[str]:
    """The board's core flags, from its board file (the same as edgenn's firmware)."""
    from edgenn.boards import get_board

    return list(get_board(board).cflags)


def _run(cmd: list[str], what: str, cwd: Path | None = None, timeout: int = 900) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    if r.returncode != 0:
        lines = [ln for ln in (r.stderr + r.stdout).splitlines() if ln.strip()]
        first = next((ln for ln in lines if "error" in ln or "undefined reference" in ln), lines[-1] if lines else "")
        raise BuildError(f"{what} failed: {first.strip()[:400]}")
    return r.stdout


def _commit(git_dir: Path, rev: str) -> str:
    r = subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", f"{rev}^{{commit}}"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"{git_dir}: no commit {rev} in this snapshot ({r.stderr.strip()[:200]}); "
                         "fetch a newer snapshot or pass a checkout with --<name> DIR")
    return r.stdout.strip()


def export(name: str, mirror: Path = MIRROR) -> Path:
    """The pinned commit of one source tree, exported (once) from its mirrored git directory."""
    repo, rev = PINNED[name]
    git_dir = mirror / repo.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        raise BuildError(f"no snapshot of {repo} at {git_dir}: fetch github:{repo}, or pass a checkout "
                         f"with --{name.replace('_', '-')} DIR")
    commit = _commit(git_dir, rev)
    dest = CACHE / "src" / f"{name}-{commit[:10]}"
    if (dest / ".complete").exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=dest.parent))  # same file system: os.replace works
    try:
        archive = subprocess.run(["git", f"--git-dir={git_dir}", "archive", commit], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
        (tmp / ".commit").write_text(commit + "\n")
        (tmp / ".complete").write_text("")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


def sources(mirror: Path = MIRROR, **checkouts: Path | None) -> Sources:
    """The six trees: the given checkouts, else the pinned commits exported from the mirror."""
    roots = {name: Path(checkouts[name]).resolve() if checkouts.get(name) else export(name, mirror) for name in PINNED}
    src = Sources(**roots)
    fb = src.flatbuffers
    patch = src.tflm / "tensorflow/lite/micro/tools/make/flatbuffers.patch"
    # TFLM patches flatbuffers (no default allocator, no string pool): apply it to exported trees.
    if not checkouts.get("flatbuffers") and patch.exists() and not (fb / ".tflm-patched").exists():
        _run(["patch", "-p1", "-s", "-i", str(patch)], "patching flatbuffers with TFLM's flatbuffers.patch", cwd=fb)
        (fb / ".tflm-patched").write_text(patch.read_text())
    return src


def commit_of(root: Path) -> str:
    """The commit a source tree was exported from ('checkout' for a given directory)."""
    f = root / ".commit"
    if f.exists():
        return f.read_text().strip()
    r = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "checkout"


def _make_list(sources_inc: str, var: str) -> list[str]:
    """The file names of one `VAR := \\` list of TFLM's sources.inc."""
    m = re.search(rf"^{var} := \\\n((?:.*\\\n)*.*)$", sources_inc, re.M)
    if not m:
        raise BuildError(f"tools/make/sources.inc has no list {var}: an unexpected TFLM version")
    return [ln.strip().rstrip("\\").strip().replace("$(TENSORFLOW_ROOT)", "") for ln in m.group(1).splitlines()
            if ln.strip().rstrip("\\").strip()]


_REGISTRATION = re.compile(r"TFLMRegistration\s+Register_(\w+)\s*\(\s*\)\s*\{")


def library_sources(src: Sources, variant: str, registrations: set[str] | None = None) -> list[Path]:
    """TFLM's library sources (and CMSIS-NN's for the cmsis_nn variant), as its Makefile lists them.

    With ``registrations`` (Register_X names), only the kernel files that define one of them are
    kept, with every kernel file that defines none (the shared *_common.cc and utilities): a
    firmware links only its model's kernels anyway, and compiling the other ~60 takes long."""
    t = src.tflm
    inc = (t / "tensorflow/lite/micro/tools/make/sources.inc").read_text()
    tests = set(_make_list(inc, "MICROLITE_TEST_SRCS"))
    base = [p for d in ("", "arena_allocator/", "memory_planner/", "tflite_bridge/")
            for p in sorted((t / "tensorflow/lite/micro" / d).glob("*.cc"))]
    base = [p for p in base if str(p.relative_to(t)) not in tests and not p.name.endswith("_test.cc")
            and not p.name.endswith("benchmark.cc") and p.name != "debug_log.cc"]
    # TFL_CC_SRCS: the shared TFLite sources (all of tensorflow/ outside lite/micro and
    # lite/experimental), without lite/array.cc under TF_LITE_STATIC_MEMORY.
    skip = ("tensorflow/lite/micro/", "tensorflow/lite/experimental/")
    shared = sorted(p for p in (t / "tensorflow").rglob("*.c*") if p.suffix in (".c", ".cc")
                    and not str(p.relative_to(t)).startswith(skip)
                    and str(p.relative_to(t)) != "tensorflow/lite/array.cc")
    kernels = [t / k for k in _make_list(inc, "MICROLITE_CC_KERNEL_SRCS")]
    extra: list[Path] = []
    if variant == "cmsis_nn":
        opt = t / "tensorflow/lite/micro/kernels/cmsis_nn"
        kernels = [opt / k.name if (opt / k.name).exists() else k for k in kernels]
        extra = sorted(p for p in (src.cmsis_nn / "Source").rglob("*.c")
                       if not p.name.endswith(("_f16.c", "_f32.c")) and p.name != "arm_nntables_flt.c")
    elif variant != "reference":
        raise BuildError(f"unknown variant {variant!r}: choose from {', '.join(VARIANTS)}")
    if registrations is not None:
        kernels = [k for k in kernels if not (defined := set(_REGISTRATION.findall(k.read_text())))
                   or defined & registrations]
    return base + shared + kernels + extra


def library_flags(src: Sources, board: str, variant: str) -> list[str]:
    return core_flags(board) + COMMON + (["-DCMSIS_NN"] if variant == "cmsis_nn" else []) + [OPT] + src.includes()


def _key(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


def build_library(src: Sources, board: str, variant: str, jobs: int = 2, log=print,
                  ops: list[str] | None = None) -> Path:
    """libtflm.a for ``board``'s core and ``variant``, compiled once into build/tflm_cortexm/.

    Objects are cached by the hash of their preprocessed source and the compiler flags (as ccache
    does): most of TFLM compiles to the same object in both variants, and only what -DCMSIS_NN or
    a kernel replacement changes is compiled again."""
    flags = library_flags(src, board, variant)
    commits = [commit_of(getattr(src, n)) for n in PINNED]
    regs = None if ops is None else set(registrations(src, ops))
    kind = "all" if ops is None else "ops-" + _key(sorted(ops))[:8]
    lib = CACHE / "lib" / f"libtflm-{BOARDS[board]}-{variant}-{kind}-{_key(flags, commits, CC)}.a"
    if lib.exists():
        return lib
    objdir = CACHE / "objects"
    objdir.mkdir(parents=True, exist_ok=True)
    files = library_sources(src, variant, regs)
    compiled = []

    def compile_one(p: Path) -> Path:
        tool, lang = (CXX, CXX_ONLY) if p.suffix == ".cc" else (CC, C_ONLY)
        cmd = [tool, *flags, *lang, "-c", str(p)]
        pre = subprocess.run([*cmd, "-E", "-P", "-o", "-"], capture_output=True)
        if pre.returncode != 0:
            _run(cmd + ["-fsyntax-only"], f"compiling {p.name} ({board}, {variant})")
        # -I and -D only act through the preprocessed text; the rest (core, -O2, ...) is in the key.
        key = hashlib.sha256(pre.stdout + repr([f for f in cmd[:-1] if not f.startswith(("-I", "-D"))]).encode())
        key = key.hexdigest()
        o = objdir / f"{p.stem}-{key[:20]}.o"
        if not o.exists():
            tmp = o.with_suffix(f".{os.getpid()}.tmp")
            _run([*cmd, "-o", str(tmp)], f"compiling {p.name} ({board}, {variant})")
            os.replace(tmp, o)
            compiled.append(p)
        return o

    log(f"TFLM {variant} for {board}: {len(files)} sources, compiling with {jobs} jobs (cached objects reused)")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        objs = list(pool.map(compile_one, files))
    log(f"  {len(compiled)} compiled in {time.monotonic() - t0:.0f} s")
    lib.parent.mkdir(parents=True, exist_ok=True)
    tmp = lib.with_suffix(".a.tmp")
    if tmp.exists():
        tmp.unlink()
    _run([AR, "rcs", str(tmp), *map(str, objs)], f"archiving {lib.name}")
    os.replace(tmp, lib)
    return lib


# ---- the firmware ----

def model_ops(data: bytes) -> list[str]:
    """The builtin operator names (FULLY_CONNECTED, ...) of a .tflite, in operator-code order."""
    import tflite

    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    m = tflite.Model.GetRootAsModel(data, 0)
    ops = []
    for i in range(m.OperatorCodesLength()):
        oc = m.OperatorCodes(i)
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        if names.get(code) == "CUSTOM":
            raise BuildError(f"custom operator {oc.CustomCode()!r}: the firmware registers TFLM's builtin ops only")
        ops.append(names[code])
    return list(dict.fromkeys(ops))


def _resolver_table(src: Sources) -> dict[str, tuple[str, list[str]]]:
    """Builtin operator -> (MicroMutableOpResolver's Add* method, the Register_* it uses), from its header."""
    text = (src.tflm / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text()
    table: dict[str, tuple[str, list[str]]] = {}
    for chunk in text.split("TfLiteStatus ")[1:]:  # one method per chunk: its name, then its body
        m, b = re.match(r"(Add\w+)\(", chunk), re.search(r"AddBuiltin\(\s*BuiltinOperator_(\w+)", chunk)
        if m and b:
            table.setdefault(b.group(1), (m.group(1), re.findall(r"Register_(\w+)\(\)", chunk)))
    return table


def _resolved(src: Sources, ops: list[str]) -> list[tuple[str, list[str]]]:
    table = _resolver_table(src)
    missing = [op for op in ops if op not in table]
    if missing:
        raise BuildError(f"TFLM's MicroMutableOpResolver has no Add method for {', '.join(missing)}")
    return [table[op] for op in ops]


def resolver_methods(src: Sources, ops: list[str]) -> list[str]:
    """MicroMutableOpResolver's Add* method of each builtin operator."""
    return [method for method, _ in _resolved(src, ops)]


def registrations(src: Sources, ops: list[str]) -> list[str]:
    """The Register_* functions (without the prefix) the resolver calls for the operators."""
    return [r for _, regs in _resolved(src, ops) for r in regs]


def _bytes_c(name: str, data: bytes, align: int = 16) -> str:
    body = ",\n".join("  " + ", ".join(f"0x{b:02x}" for b in data[i:i + 24]) for i in range(0, len(data), 24))
    return f"alignas({align}) extern const unsigned char {name}[] = {{\n{body or '  0'}\n}};\n"


def model_source(src: Sources, data: bytes, samples: list[list[bytes]], reset_each: bool) -> str:
    """model_data.cc: the .tflite, the inputs of every sample and the op registrations."""
    methods = resolver_methods(src, model_ops(data))
    n_in = len(samples[0])
    sizes = [len(b) for b in samples[0]]
    if any([len(b) for b in s] != sizes for s in samples):
        raise BuildError("every sample must have the same input sizes")
    flat = b"".join(b for s in samples for b in s)
    adds = "\n".join(f"  if (r.{m}() != kTfLiteOk) return false;" for m in methods)
    return f"""// Generated by bench/tflm_cortexm/build.py: the model, its inputs, its operators.
#include "model_data.h"

{_bytes_c("g_model", data)}
{_bytes_c("g_inputs", flat)}
extern const unsigned g_input_bytes[] = {{{", ".join(map(str, sizes))}}};
extern const int g_num_inputs = {n_in};
extern const int g_num_samples = {len(samples)};
extern const bool g_reset_each_sample = {"true" if reset_each else "false"};

bool AddOps(OpResolver& r) {{
{adds}
  return true;
}}
"""


def _render(template: str, **ctx) -> str:
    import jinja2
    from edgenn.codegen.generate import templates_dir

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(template).render(**ctx)


def arena_bytes(board) -> int:
    """The tensor arena: the board's RAM less the stack and 48 KiB for the rest, at most 1 MiB."""
    return min(1 << 20, (board.ram_bytes - board.stack_bytes - (48 << 10)) // 16 * 16)


@dataclass
class Firmware:
    elf: Path
    board: str
    variant: str


def build_firmware(src: Sources, lib: Path, tflite_bytes: bytes, samples: list[list[bytes]], board_name: str,
                   variant: str, reset_each: bool = False) -> Firmware:
    """The firmware running ``samples`` (each: the raw bytes of every input) through the model."""
    from edgenn.boards import get_board

    board = get_board(board_name)
    key = _key(tflite_bytes, samples, reset_each, lib.name, (HERE / "main.cc").read_bytes())
    out = CACHE / "fw" / f"{BOARDS[board_name]}-{variant}-{key}"
    elf = out / "firmware.elf"
    if elf.exists():
        return Firmware(elf, board_name, variant)
    out.mkdir(parents=True, exist_ok=True)
    stamp = "Generated by bench/tflm_cortexm/build.py from edgenn's templates/test_app."
    mem = board.emu_map or board.real_map
    (out / "startup.c").write_text(_render("test_app/startup.c.j2", board=board, stamp=stamp))
    (out / "markers.c").write_text(_render("test_app/markers.c.j2", libs=[], stamp=stamp))
    (out / "link.ld").write_text(_render("test_app/link.ld.j2", board=board, mem=mem, stamp=stamp,
                                         for_emulator=True, for_fit=False))
    (out / "model_data.cc").write_text(model_source(src, tflite_bytes, samples, reset_each))
    flags = library_flags(src, board_name, variant)
    cflags = core_flags(board_name) + [OPT, "-ffunction-sections", "-fdata-sections"]
    objs = []
    # newlib's memcpy/memmove/memset for TFLM (a real device has them): rename the startup's.
    startup_defs = ["-ffreestanding", "-Dmemcpy=fw_startup_memcpy", "-Dmemmove=fw_startup_memmove",
                    "-Dmemset=fw_startup_memset"]
    for name, tool, extra in (("startup.c", CC, C_ONLY + startup_defs), ("markers.c", CC, C_ONLY)):
        objs.append(out / (name + ".o"))
        _run([tool, *cflags, *extra, "-c", str(out / name), "-o", str(objs[-1])], f"compiling {name}")
    for name, path in (("model_data.cc", out / "model_data.cc"), ("main.cc", HERE / "main.cc")):
        objs.append(out / (name + ".o"))
        _run([CXX, *flags, *CXX_ONLY, f"-I{HERE}", f"-DARENA_BYTES={arena_bytes(board)}", "-c", str(path),
              "-o", str(objs[-1])], f"compiling {name}")
    _run([CXX, *core_flags(board_name), "-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs",
          "-T", str(out / "link.ld"), "-Wl,--gc-sections", f"-Wl,-Map={out / 'firmware.map'}",
          *map(str, objs), str(lib), "-lm", "-o", str(elf)], f"linking the TFLM firmware for {board_name}")
    init = subprocess.run(["arm-none-eabi-objdump", "-h", str(elf)], capture_output=True, text=True).stdout
    if re.search(r"\.init_array\s+0*[1-9a-f]", init):
        # The start-up code does not run C++ constructors of globals: refuse rather than misbehave.
        elf.unlink()
        raise BuildError(f"{out}: the firmware has static constructors (.init_array), which startup.c does not run")
    return Firmware(elf, board_name, variant)


def run_firmware(fw: Firmware, n: int, timeout: float = 600.0) -> tuple[list[list[bytes]], list[int], int]:
    """(per sample: the bytes of each output, instructions of each Invoke, TFLM arena bytes used)."""
    from edgenn.boards import get_board
    from edgenn.emulation import backends as be
    from edgenn.emulation.profile import count

    res, rows = count(be.BuildResult(fw.elf.parent, fw.elf, get_board(fw.board)), b"", n, layers=False,
                      timeout=timeout)
    outs: dict[int, dict[int, bytes]] = {}
    used = -1
    for line in res.stderr.splitlines():
        parts = line.split()
        if parts[:1] == ["tflm-out"]:
            outs.setdefault(int(parts[1]), {})[int(parts[2])] = bytes.fromhex(parts[3] if len(parts) > 3 else "")
        elif parts[:1] == ["tflm-arena-used"]:
            used = int(parts[1])
    if sorted(outs) != list(range(n)):
        raise BuildError(f"{fw.elf}: the firmware printed outputs of {len(outs)} samples, expected {n}")
    return [[o[k] for k in sorted(o)] for _, o in sorted(outs.items())], [r[0] for r in rows], used


# ---- the reference: the tflite-micro package ----

def io_counts(data: bytes) -> tuple[int, int]:
    """(inputs, outputs) of the main subgraph of a .tflite."""
    import tflite

    g = tflite.Model.GetRootAsModel(data, 0).Subgraphs(0)
    return g.InputsLength(), g.OutputsLength()


def package_run(tflite_bytes: bytes, samples: list[list[np.ndarray]], reset_each: bool) -> list[list[bytes]]:
    """The raw output bytes the tflite-micro package computes for the samples (one stream)."""
    from edgenn.emulation.tflm import interpreter

    it = interpreter(tflite_bytes)
    n_out = io_counts(tflite_bytes)[1]
    res = []
    for s in samples:
        if reset_each:
            it.reset()
        for k, x in enumerate(s):
            d = it.get_input_details(k)
            it.set_input(np.asarray(x, d["dtype"]).reshape(tuple(d["shape"])), k)
        it.invoke()
        res.append([np.ascontiguousarray(it.get_output(k)).tobytes() for k in range(n_out)])
    return res


def package_inputs(tflite_bytes: bytes, n: int, seed: int = 0) -> list[list[np.ndarray]]:
    """``n`` samples of random inputs in each input tensor's own dtype (integers over their whole range)."""
    from edgenn.emulation.tflm import interpreter

    it = interpreter(tflite_bytes)
    details = [it.get_input_details(k) for k in range(io_counts(tflite_bytes)[0])]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        s = []
        for d in details:
            dt, shape = np.dtype(d["dtype"]), tuple(d["shape"])
            if dt.kind in "iu":
                s.append(rng.integers(np.iinfo(dt).min, np.iinfo(dt).max + 1, shape).astype(dt))
            else:
                s.append(rng.standard_normal(shape).astype(dt))
        out.append(s)
    return out


def model_samples(tflite_path: Path, model, x_int8: list[np.ndarray]) -> tuple[list[list[np.ndarray]], bool]:
    """edgenn's int8 inputs of an imported .tflite (each (N, *shape), as edgenn's benchmarks profile
    them) as TFLM takes them, and whether TFLM is reset before each sample (as run_tflm_file does)."""
    from edgenn.emulation.tflm import interpreter, resets_each_sample, tflm_samples

    return tflm_samples(interpreter(Path(tflite_path).read_bytes()), model, x_int8), resets_each_sample(model)


@dataclass
class Measurement:
    board: str
    variant: str
    instructions: int          # mean over the samples
    per_sample: list[int]
    arena_used: int            # bytes of the arena TFLM used on the 32-bit target
    exact: bool                # outputs byte-identical to the tflite-micro package
    #: When not exact on a stream: the outputs equal the package's reset before every sample (the
    #: kernel does not keep the variable tensors' state from one Invoke to the next).
    state_not_kept: bool = False


def measure(tflite_path: Path, samples: list[list[np.ndarray]], board: str, variant: str,
            reset_each: bool = False, src: Sources | None = None, jobs: int = 2, log=print) -> Measurement:
    """Instructions per Invoke of TFLM (``variant``) on ``board`` for ``samples`` (one stream: TFLM keeps
    variable tensors from one Invoke to the next unless ``reset_each``), outputs checked against the
    tflite-micro package."""
    src = src or sources()
    data = Path(tflite_path).read_bytes()
    lib = build_library(src, board, variant, jobs=jobs, log=log, ops=model_ops(data))
    raw = [[np.ascontiguousarray(x).tobytes() for x in s] for s in samples]
    fw = build_firmware(src, lib, data, raw, board, variant, reset_each)
    outs, counts, used = run_firmware(fw, len(samples))
    exact = outs == package_run(data, samples, reset_each)
    lost = not exact and not reset_each and len(samples) > 1 and outs == package_run(data, samples, True)
    return Measurement(board, variant, int(round(float(np.mean(counts)))), counts, used, exact, lost)


#: The three builds measured: (board, variant).
CONFIGS = (("mps2-an386", "reference"), ("mps2-an386", "cmsis_nn"), ("mps3-an547", "cmsis_nn"))


def measure_imported(tflite_path: Path, model, x_int8: list[np.ndarray], configs=CONFIGS,
                     log=lambda s: print(s, file=sys.stderr)) -> list[Measurement]:
    """TFLM's instructions per Invoke for an imported .tflite on edgenn's inputs (the int8 arrays
    edgenn's benchmark profiles), in each of ``configs``: the same samples, in the same order, with
    TFLM's state kept or reset as the tflite-micro package comparison does it."""
    samples, reset_each = model_samples(tflite_path, model, x_int8)
    src = sources()
    return [measure(tflite_path, samples, board, variant, reset_each, src=src, log=log) for board, variant in configs]


# ---- validation on the MLPerf Tiny models ----

#: tests/data/mlperf_tiny/README.md: instructions per inference (M4 reference, M4 CMSIS-NN, M55 CMSIS-NN).
README_FIGURES = {"KWS": (43.11e6, 7.70e6, 1.81e6), "VWW": (100.48e6, 24.10e6, 6.56e6),
                  "IC": (107.49e6, 29.86e6, 4.91e6), "AD": (1.954e6, 0.583e6, 0.286e6)}


def validate(src: Sources, jobs: int, models: list[str]) -> bool:
    sys.path.insert(0, str(HERE.parent))
    from common import MLPERF, MLPERF_DIR, md_table

    rows, ok = [], True
    for key in models:
        path = MLPERF_DIR / MLPERF[key]
        samples = package_inputs(path.read_bytes(), 1)
        row = [key]
        for (board, variant), ref in zip(CONFIGS, README_FIGURES[key]):
            m = measure(path, samples, board, variant, src=src, jobs=jobs, log=lambda s: print(s, file=sys.stderr))
            ok &= m.exact
            row.append(f"{m.instructions / 1e6:.3f} M vs {ref / 1e6:.3f} M ({(m.instructions / ref - 1) * 100:+.2f}%)"
                       + ("" if m.exact else " NOT BIT-EXACT"))
            print(f"{key} {board} {variant}: {m.instructions:,} instructions, arena {m.arena_used:,} B, "
                  f"bytes == package: {m.exact}", file=sys.stderr)
        rows.append(row)
    print(md_table(["model", "M4 reference (this build vs README)", "M4 CMSIS-NN", "M55 CMSIS-NN"], rows))
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", help="a .tflite to measure (random inputs)")
    ap.add_argument("--validate", action="store_true", help="measure the MLPerf Tiny models, compare with the README")
    ap.add_argument("--models", default="KWS,VWW,IC,AD", help="with --validate: which MLPerf models")
    ap.add_argument("--board", choices=sorted(BOARDS), default="mps2-an386")
    ap.add_argument("--variant", choices=VARIANTS, default="cmsis_nn")
    ap.add_argument("--samples", type=int, default=1, help="inputs run one after the other (a stream)")
    ap.add_argument("--library-only", action="store_true", help="only build the library for --board/--variant")
    ap.add_argument("--jobs", type=int, default=2, help="parallel compiler processes (default 2)")
    ap.add_argument("--mirror", type=Path, default=MIRROR, help="where the fetched git snapshots are")
    for name in PINNED:
        ap.add_argument(f"--{name.replace('_', '-')}", type=Path, default=None, metavar="DIR",
                        help=f"a checkout of {PINNED[name][0]} instead of commit {PINNED[name][1][:10]} of the mirror")
    args = ap.parse_args()
    try:
        src = sources(args.mirror, **{n: getattr(args, n) for n in PINNED})
        print("sources: " + ", ".join(f"{n} {commit_of(getattr(src, n))[:10]}" for n in PINNED), file=sys.stderr)
        if args.library_only:
            print(build_library(src, args.board, args.variant, jobs=args.jobs))
            return 0
        if args.validate:
            return 0 if validate(src, args.jobs, args.models.split(",")) else 1
        if not args.model:
            ap.error("give a .tflite, --validate or --library-only")
        data = Path(args.model).read_bytes()
        m = measure(Path(args.model), package_inputs(data, args.samples), args.board, args.variant, src=src,
                    jobs=args.jobs)
        print(f"{args.model} on {args.board} ({args.variant}): {m.instructions:,} instructions per Invoke "
              f"{m.per_sample}, arena used {m.arena_used:,} B, outputs == tflite-micro package: {m.exact}"
              + (" (equal to the package reset before each sample: the state is not kept)" if m.state_not_kept else ""))
        return 0 if m.exact else 1
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
