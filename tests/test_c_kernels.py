"""The C kernels (templates/kernels) as plain C99 files, checked on their own, without codegen.

- no Jinja markers: codegen copies them byte for byte;
- every kernel .c compiles as it is with -std=c99 -Wall -Wextra -Werror for the host (gcc, -O0 and
  -O2), the Cortex-M4 (DSP extension: -O2 takes the inline-assembly loops, -DENN_NO_ASM the ACLE
  intrinsics) and the Cortex-M55 (Helium) with arm-none-eabi-gcc;
- every external symbol an object defines starts with enn_, and the generated prefix header
  (codegen.generate.kernel_prefix_header, src/kernels/edgenn_prefix.h of a library) renames it to the
  model's prefix: compiled against it, the kernels define only prefixed symbols;
- gcc -fanalyzer finds nothing (host and Cortex-M4 code paths, as part of the standalone builds);
- cppcheck finds nothing (when installed; in CI, CI=true, a missing cppcheck fails).

Checks used with cppcheck: warning, style, performance, portability on the default preprocessor
configurations and on the DSP (with the assembly) and Helium ones. Suppressed: shiftTooManyBitsSigned
and shiftNegativeLHS (the arithmetic right shift of negative int32 values, e.g. `s >> 31`, is part
of the kernels' documented contract in edgenn_fixedpoint.h: two's complement, arithmetic shifts, as
gcc and clang give on every supported target); single false positives carry an inline
`cppcheck-suppress` comment with the reason.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from boards_common import require
from edgenn.codegen.generate import templates_dir, kernel_prefix_header

KERNELS = templates_dir() / "kernels"
SOURCES = sorted(KERNELS.glob("*.c"))
HEADERS = sorted(KERNELS.glob("*.h"))
WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
TARGETS = {
    "host-O0": ("gcc", ["-O0"]),
    "host-O2": ("gcc", ["-O2"]),
    "m4": ("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2"]),
    "m4-noasm": ("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2",
                                       "-DENN_NO_ASM"]),
    "m55": ("arm-none-eabi-gcc", ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-O2"]),
    # gcc's static analyzer (leaks, NULL dereferences, out-of-bounds, use of uninitialized values):
    # its warnings are errors under -Werror, on the portable C and on the M4's DSP code paths.
    "host-analyzer": ("gcc", ["-O2", "-fanalyzer"]),
    "m4-analyzer": ("arm-none-eabi-gcc", ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2",
                                          "-fanalyzer"]),
}


def _nm_tool(cc: str) -> str:
    return "arm-none-eabi-nm" if cc.startswith("arm-none-eabi") else "nm"


def compile_kernels(cc: str, flags: list[str], src_dir: Path, out: Path) -> dict[str, set[str]]:
    """Compile every .c of src_dir on its own; the external symbols each object defines."""
    out.mkdir(parents=True, exist_ok=True)
    defined: dict[str, set[str]] = {}
    for src in sorted(src_dir.glob("*.c")):
        obj = out / (src.stem + ".o")
        r = subprocess.run([cc] + WARN + flags + ["-c", str(src), "-o", str(obj)], capture_output=True, text=True)
        assert r.returncode == 0, f"{cc} {' '.join(flags)}: {src.name} does not compile:\n{r.stderr[-3000:]}"
        r = subprocess.run([_nm_tool(cc), "-g", "--defined-only", "-P", str(obj)], capture_output=True, text=True,
                           check=True)
        defined[src.name] = {line.split()[0] for line in r.stdout.splitlines() if line.strip()}
    return defined


def renames(prefix_header: str) -> dict[str, str]:
    return dict(re.findall(r"^#define (enn_\w+) (\w+)$", prefix_header, re.M))


def test_kernels_are_plain_c():
    assert SOURCES and HEADERS
    for f in sorted(KERNELS.iterdir()):
        text = f.read_text()
        assert "{{" not in text and "{%" not in text, f"{f.name} has Jinja markers"


def test_every_kernel_header_includes_the_prefix_header_first():
    for h in HEADERS:
        if h.name == "edgenn_prefix.h":
            continue
        includes = re.findall(r'^#include [<"]([^>"]+)[>"]', h.read_text(), re.M)
        assert includes and includes[0] == "edgenn_prefix.h", f"{h.name} includes {includes[:1]} first"


@pytest.mark.parametrize("target", list(TARGETS))
def test_kernels_compile_standalone(target, tmp_path):
    cc, flags = TARGETS[target]
    require(cc, _nm_tool(cc))
    defined = compile_kernels(cc, flags, KERNELS, tmp_path)
    assert set(defined) == {s.name for s in SOURCES}
    prefix = renames(kernel_prefix_header([h.read_text() for h in HEADERS], "kws_"))
    for name, syms in defined.items():
        # edgenn_threads.c is empty without -DENN_THREADS=N (tests/test_threads.py compiles it so)
        assert syms or name == "edgenn_threads.c", f"{name} defines no external symbol"
        for s in sorted(syms):
            assert s.startswith("enn_"), f"{name} ({target}) defines {s}, without the enn_ prefix"
            assert prefix.get(s) == "kws_" + s[4:], f"{name} ({target}): {s} is not renamed by the prefix header"


def test_prefix_header_renames_every_symbol(tmp_path):
    """Compiled against a generated prefix header, the kernels define only the model's symbols."""
    require("gcc", "nm")
    d = tmp_path / "kernels"
    shutil.copytree(KERNELS, d)
    (d / "edgenn_prefix.h").write_text(kernel_prefix_header([h.read_text() for h in HEADERS], "kws_"))
    defined = compile_kernels("gcc", ["-O1"], d, tmp_path / "obj")
    for name, syms in defined.items():
        assert (syms or name == "edgenn_threads.c") and all(s.startswith("kws_") for s in syms), f"{name}: {sorted(syms)}"
    assert kernel_prefix_header([h.read_text() for h in HEADERS], "enn_").count("#define") == 1  # the guard only


def test_generated_project_prefix_header(tmp_path):
    """A generated project: its kernels/edgenn_prefix.h renames every symbol of the kernels copied
    into it, and the project's kernel files are the templates byte for byte."""
    from boards_common import digits_model
    from edgenn.boards import get_board
    from edgenn.codegen.generate import render_library

    require("gcc", "nm")
    d = render_library(digits_model(), tmp_path / "digits", get_board("host"))
    kdir = d / "src" / "kernels"
    for f in kdir.iterdir():
        if f.name != "edgenn_prefix.h":
            assert f.read_bytes() == (KERNELS / f.name).read_bytes(), f"{f.name} differs from its template"
    prefix = renames((kdir / "edgenn_prefix.h").read_text())
    defined = compile_kernels("gcc", ["-O1"], KERNELS, tmp_path / "obj")
    for src in sorted(kdir.glob("*.c")):
        for s in sorted(defined[src.name]):
            assert prefix.get(s) == "digits_" + s[4:], f"{s} ({src.name}) is not renamed in the project"


def test_cppcheck(tmp_path):
    require("cppcheck")
    base = ["cppcheck", "-q", "--error-exitcode=1", "--std=c99", "--enable=warning,style,performance,portability",
            "--inline-suppr", "--suppress=shiftTooManyBitsSigned", "--suppress=shiftNegativeLHS",
            f"--cppcheck-build-dir={tmp_path}"]
    configs = {
        "default": [],  # cppcheck's own choice of preprocessor configurations (portable C among them)
        "dsp": ["-D__ARM_FEATURE_DSP=1", "-D__thumb2__", "-D__OPTIMIZE__", "-D__ARM_ARCH_PROFILE=77"],
        "mve": ["-D__ARM_FEATURE_DSP=1", "-D__ARM_FEATURE_MVE=3"],
    }
    for name, defs in configs.items():
        r = subprocess.run(base + defs + [str(s) for s in SOURCES], capture_output=True, text=True, cwd=KERNELS)
        assert r.returncode == 0, f"cppcheck ({name}):\n{(r.stdout + r.stderr)[-4000:]}"
