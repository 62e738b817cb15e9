"""Boards: the data files, `edgenn boards`, the fit check, and the projects `generate --board` writes."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from boards_common import DIGITS, MLPERF, assert_same_bytes, digits_inputs, digits_model, mlperf_model, require, \
    require_board
from edgenn.boards import all_boards, get_board
from edgenn.codegen.generate import render_model
from edgenn.emulation import backends
from edgenn.emulation.size import measure_library, parse_callgraph, worst_stack
from edgenn.errors import EdgennError, FitError
from edgenn.fit import check_fit, fit_report


def edgenn(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgenn", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def assert_one_line_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("edgenn: error:"), r.stderr
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])
    return lines[0]


# ---- the board files ----

EXPECTED = {
    # name: (core, kind, emulator)
    "mps2-an385": ("cortex-m3", "baremetal", "qemu-system-arm"),
    "mps2-an386": ("cortex-m4", "baremetal", "qemu-system-arm"),
    "mps2-an500": ("cortex-m7", "baremetal", "qemu-system-arm"),
    "mps2-an505": ("cortex-m33", "baremetal", "qemu-system-arm"),
    "mps3-an547": ("cortex-m55", "baremetal", "qemu-system-arm"),
    "microbit": ("cortex-m0", "baremetal", "qemu-system-arm"),
    "rp2040": ("cortex-m0plus", "baremetal", "qemu-system-arm"),
    "stm32f446re": ("cortex-m4", "baremetal", "qemu-system-arm"),
    "stm32f746ng": ("cortex-m7", "baremetal", "qemu-system-arm"),
    "stm32h743zi": ("cortex-m7", "baremetal", "qemu-system-arm"),
    "nrf52840": ("cortex-m4", "baremetal", "qemu-system-arm"),
    "stm32l4r5zi": ("cortex-m4", "baremetal", "qemu-system-arm"),
    "rpi3": ("cortex-a53", "linux", "qemu-aarch64"),
    "rpi4": ("cortex-a72", "linux", "qemu-aarch64"),
    "rpi5": ("cortex-a76", "linux", "qemu-aarch64"),
    "rpi2": ("cortex-a7", "linux", "qemu-arm"),
    "rpi3-32": ("cortex-a53", "linux", "qemu-arm"),
    "host": ("host", "host", "native"),
}

# Real products: (flash, RAM) from their datasheets.
PRODUCTS = {"stm32f446re": (512 << 10, 128 << 10), "stm32f746ng": (1 << 20, 320 << 10),
            "stm32h743zi": (2 << 20, 512 << 10), "nrf52840": (1 << 20, 256 << 10),
            "stm32l4r5zi": (2 << 20, 640 << 10), "rp2040": (2 << 20, 264 << 10), "microbit": (256 << 10, 16 << 10)}


def test_every_expected_board_is_there():
    boards = all_boards()
    for name, (core, kind, emu) in EXPECTED.items():
        b = boards[name]
        assert (b.core, b.kind, b.emulator.get("kind")) == (core, kind, emu), name
        assert b.emulated == (emu != "native"), name
        if kind != "host":
            assert f"-mcpu={core}" in b.cflags, (name, b.cflags)


def test_products_have_their_real_sizes_and_run_on_a_machine_of_their_core():
    for name, (flash, ram) in PRODUCTS.items():
        b = get_board(name)
        assert (b.flash_bytes, b.ram_bytes) == (flash, ram), name
        assert b.emu_map is not None and (b.emu_map.flash_bytes, b.emu_map.ram_bytes) == (flash, ram)
        if b.emulated_by:
            machine = get_board(b.emulated_by)
            assert machine.core == b.core, (name, machine.name)
            # the firmware for QEMU: the machine's addresses, the product's sizes
            assert (b.emu_map.flash_origin, b.emu_map.ram_origin) == (machine.flash_origin, machine.ram_origin)
            assert b.emulator["machine"] == machine.emulator["machine"]


def test_rp2040_runs_on_the_enlarged_nrf51():
    b = get_board("rp2040")
    assert b.emulator["machine"] == "microbit" and b.separate_emu_firmware
    args = b.emulator_args()
    assert f"nrf51-soc.flash-size={2 << 20}" in args and f"nrf51-soc.sram-size={264 << 10}" in args


def test_machine_boards_link_for_themselves():
    for name in ("mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "microbit"):
        b = get_board(name)
        assert not b.separate_emu_firmware and b.emu_firmware == "firmware.elf"
    assert get_board("mps2-an505").flash_origin == 0x10000000 and get_board("mps2-an505").ram_origin == 0x38000000
    assert get_board("mps3-an547").flash_origin == 0x10000000 and get_board("mps3-an547").ram_origin == 0x30000000


def test_bad_board_files_are_errors(tmp_path):
    from edgenn import boards as bmod

    raw = {"base": {"name": "base", "kind": "baremetal", "core": "cortex-m4", "cc": "x",
                    "memory": {"flash_bytes": 1024, "ram_bytes": 1024},
                    "emulator": {"kind": "qemu-system-arm", "machine": "m"}}}
    big = {"name": "big", "kind": "baremetal", "core": "cortex-m4", "cc": "x", "emulated_by": "base",
           "memory": {"flash_bytes": 4096, "ram_bytes": 1024}}
    with pytest.raises(EdgennError, match="larger than the emulated machine"):
        bmod._build(big, raw)
    with pytest.raises(EdgennError, match="not a known board"):
        bmod._build({**big, "emulated_by": "nope"}, raw)
    with pytest.raises(EdgennError, match="unknown board"):
        get_board("no-such-board")


def test_boards_json_lists_all_boards():
    r = edgenn("boards", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    names = {row["name"] for row in rows}
    assert set(EXPECTED) <= names
    for row in rows:
        for key in ("name", "core", "flash_bytes", "ram_bytes", "emulated"):
            assert key in row, (key, row)
        assert isinstance(row["emulated"], bool) and isinstance(row["flash_bytes"], int)
    by = {row["name"]: row for row in rows}
    assert by["stm32f446re"]["flash_bytes"] == 512 << 10 and by["stm32f446re"]["emulated_by"] == "mps2-an386"
    r = edgenn("boards")
    assert r.returncode == 0 and "stm32h743zi" in r.stdout and "qemu-aarch64" in r.stdout


# ---- fit ----

def test_fit_is_measured_with_the_board_compiler():
    require("arm-none-eabi-gcc", "make")
    m = digits_model()
    r = fit_report(m, "mps2-an386")
    assert r["measured"] and r["fits"]
    # flash holds at least the weights and parameters plus code; RAM at least the arena and a stack
    assert r["flash_used"] > r["const_bytes"] > 0 and r["code_bytes"] > 1000
    assert r["ram_used"] >= m.arena_bytes + r["stack_bytes"] and 64 < r["stack_bytes"] < 4096
    assert r["stack_path"][0] == "digits_invoke"
    est = fit_report(m, "mps2-an386", measure=False)
    assert not est["measured"] and est["stack_bytes"] == get_board("mps2-an386").stack_bytes


def test_big_mlperf_models_do_not_fit_the_microbit():
    require("arm-none-eabi-gcc", "make")
    with pytest.raises(FitError, match=r"RAM: the test firmware needs [\d,]+ B .*has 16,384 B, [\d,]+ B over"):
        check_fit(mlperf_model("vww"), "microbit")
    with pytest.raises(FitError, match=r"flash: the test firmware needs [\d,]+ B .*has 262,144 B, [\d,]+ B over"):
        check_fit(mlperf_model("ad"), "microbit")
    assert check_fit(digits_model(), "microbit")["fits"]
    # Linux boards have no limit worth checking
    assert fit_report(mlperf_model("vww"), "rpi4", measure=False)["fits"]


def test_convert_refuses_a_model_too_big_for_the_board(tmp_path):
    require("arm-none-eabi-gcc", "make")
    out = tmp_path / "vww.enn"
    r = edgenn("convert", MLPERF / "vww_96_int8.tflite", "-o", out, "--board", "microbit")
    line = assert_one_line_error(r, "does not fit microbit", "RAM", "B over")
    over = int(re.search(r"([\d,]+) B over", line).group(1).replace(",", ""))
    assert over > 0
    assert not out.exists()
    out = tmp_path / "ad.enn"
    r = edgenn("convert", MLPERF / "ad01_int8.tflite", "-o", out, "--board", "microbit")
    assert_one_line_error(r, "does not fit microbit", "flash", "B over")
    assert not out.exists()


def test_convert_digits_for_a_board_reports_the_fit(tmp_path):
    require("arm-none-eabi-gcc", "make")
    out = tmp_path / "digits.enn"
    r = edgenn("convert", DIGITS / "model.onnx", "--calib", DIGITS / "calib.npy", "-o", out, "--board", "microbit")
    assert r.returncode == 0, r.stderr
    assert "board microbit (measured)" in r.stdout and "fits" in r.stdout
    r = edgenn("analyze", out, "--board", "stm32f446re", "--json")
    assert r.returncode == 0, r.stderr
    fit = json.loads(r.stdout)["board"]
    assert fit["fits"] and fit["flash_bytes"] == 512 << 10 and fit["measured"]


def test_worst_stack_follows_the_call_graph():
    text = '''graph: { title: "a.c"
node: { title: "f" label: "f\\na.c:1:5\\n24 bytes (static)" }
node: { title: "g" label: "g\\na.c:2:5\\n40 bytes (static)" }
node: { title: "h" label: "h\\na.c:3:5\\n8 bytes (static)" }
node: { title: "__aeabi_lmul" label: "__aeabi_lmul\\n<built-in>" shape : ellipse }
edge: { sourcename: "f" targetname: "g" label: "a.c:1:9" }
edge: { sourcename: "f" targetname: "h" label: "a.c:1:12" }
edge: { sourcename: "h" targetname: "__aeabi_lmul" label: "a.c:3:9" }
}'''
    frames, calls = parse_callgraph([text])
    assert frames["g"] == (40, "static")
    total, path, unknown = worst_stack(frames, calls, "f")
    assert total == 24 + 8 + 64 and path == ["f", "h", "__aeabi_lmul"] and unknown == ["__aeabi_lmul"]
    with pytest.raises(EdgennError, match="recursion"):
        worst_stack(frames, {**calls, "g": {"f"}}, "f")


@pytest.mark.qemu
def test_static_stack_bound_covers_the_stack_measured_in_qemu(tmp_path):
    """The firmware paints its stack; the library's part must stay under the -fcallgraph-info bound."""
    b = get_board("mps2-an386")
    require_board(b)
    m = digits_model()
    bound = measure_library(m, b)["stack"]
    build = backends.build(m, b, tmp_path / "fw")
    res = backends.run_raw(build, backends.pack_inputs(m, digits_inputs(4)), timeout=60)
    assert res.stack_used is not None
    # what the harness adds: main's frame and the semihosting helpers, well under 256 bytes
    assert res.stack_used <= bound + 256, (res.stack_used, bound)
    assert bound <= res.stack_used + 256, (res.stack_used, bound)


# ---- generated projects ----

def _files(d: Path) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob("*") if p.is_file()}


@pytest.mark.parametrize("board", ["mps2-an386", "stm32f446re", "rpi4", "rpi2", "host"])
def test_generate_writes_a_complete_project(board, tmp_path):
    d = tmp_path / "proj"
    r = edgenn_generate(board, d)
    assert r.returncode == 0, r.stderr
    files = _files(d)
    lib = {"src/digits.h", "src/digits.c", "src/digits_weights.h", "src/digits_weights.c", "src/kernels/conv2d.c",
           "src/kernels/edgenn_prefix.h", "CMakeLists.txt", "Makefile", "digits.mk", "README.md", "library.properties",
           "library.json", "zephyr/module.yml", "zephyr/CMakeLists.txt", "zephyr/Kconfig"}
    assert {f"lib/digits/{f}" for f in lib} <= files
    assert {"Makefile", "CMakeLists.txt", "README.md"} <= files
    # the library folder holds only the model: no main, start-up code or linker script
    assert not any(f.startswith("lib/") and (f.endswith(".ld") or "main" in f or "startup" in f) for f in files)
    # every generated file is stamped (the kernels are copied verbatim; JSON has no comments, so
    # library.json says it in its description)
    for f in files - {".edgenn-generated"}:
        if not f.startswith("lib/digits/src/kernels/") or f.endswith("edgenn_prefix.h"):
            assert re.search("generated by edgenn", (d / f).read_text(), re.I), f"{f} is not stamped"
    b = get_board(board)
    if b.kind == "baremetal":
        assert {"test_app/main_fw.c", "test_app/startup.c", "test_app/link.ld", "toolchain.cmake"} <= files
        assert ("test_app/link_qemu.ld" in files) == b.separate_emu_firmware
        ld = (d / "test_app" / "link.ld").read_text()
        assert f"ORIGIN = 0x{b.flash_origin:08X}, LENGTH = {b.flash_bytes}" in ld
        assert f"ORIGIN = 0x{b.ram_origin:08X}, LENGTH = {b.ram_bytes}" in ld
        if b.separate_emu_firmware:
            ld = (d / "test_app" / "link_qemu.ld").read_text()
            assert f"ORIGIN = 0x{b.emu_map.flash_origin:08X}, LENGTH = {b.flash_bytes}" in ld
    else:
        assert {"test_app/main_host.c", "digits.py"} <= files
        assert "class Model" in (d / "digits.py").read_text()
    assert "make" in r.stdout and "lib/digits/" in r.stdout


_digits_enn: dict[str, Path] = {}


def digits_enn(tmp_path_factory=None) -> Path:
    if "p" not in _digits_enn:
        import tempfile

        from edgenn.format import enn

        p = Path(tempfile.mkdtemp(prefix="edgenn-test-")) / "digits.enn"
        enn.save(digits_model(), p)
        _digits_enn["p"] = p
    return _digits_enn["p"]


def edgenn_generate(board: str, out: Path) -> subprocess.CompletedProcess:
    return edgenn("generate", digits_enn(), "--board", board, "-o", out)


@pytest.mark.parametrize("board", sorted(n for n, b in all_boards().items() if b.kind != "host"))
def test_every_board_builds_its_library_and_harness(board, tmp_path):
    b = get_board(board)
    require(b.cc, "make")
    d = render_model(digits_model(), tmp_path / "p", b)
    targets = ["libdigits.a"]
    if b.kind == "baremetal":
        targets += ["firmware.elf"] + ([b.emu_firmware] if b.separate_emu_firmware else [])
    else:
        targets += ["runner", "libdigits.so"]
    for t in targets:
        backends.make(d, t)
        assert (d / t).exists(), t


def test_a_product_firmware_too_big_fails_to_link(tmp_path):
    """The firmware is linked with the board's sizes: VWW's arena does not fit the micro:bit's
    16 KB of RAM; the linker fails, and the error is one line with what is over and by how much."""
    b = get_board("microbit")
    require(b.cc, "make")
    with pytest.raises(FitError) as e:
        backends.build(mlperf_model("vww"), b, tmp_path / "vww")
    msg = str(e.value)
    assert "\n" not in msg and "does not fit microbit" in msg and "input/output buffers 27,650" in msg, msg
    # the bytes over are the linker's own figure
    r = subprocess.run(["make", "-s", "-C", str(tmp_path / "vww"), "firmware.elf"], capture_output=True, text=True)
    linker = int(re.search(r"region `RAM' overflowed by (\d+) bytes", r.stderr).group(1))
    assert f"{linker:,} B over" in msg, (linker, msg)


@pytest.mark.parametrize("board", ["mps2-an386", "stm32f746ng", pytest.param("rpi4", marks=pytest.mark.qemu)])
def test_cmake_project_builds_and_runs(board, tmp_path):
    """The CMakeLists.txt (with the generated toolchain file) builds the same harness as the Makefile."""
    b = get_board(board)
    require("cmake", b.cc)
    src = render_model(digits_model(), tmp_path / "src", b)
    build = tmp_path / "build"
    toolchain = [f"-DCMAKE_TOOLCHAIN_FILE={src / 'toolchain.cmake'}"] if b.kind != "host" else []
    r = subprocess.run(["cmake", "-S", src, "-B", build, *toolchain], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["cmake", "--build", build, "-j", "2"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    binary = build / (b.emu_firmware if b.kind == "baremetal" else "runner")
    assert binary.exists()
    if b.kind != "baremetal":
        assert (build / "libdigits.so").exists()
    if shutil_which(b.emulator.get("kind", "")):
        m = digits_model()
        xs = digits_inputs(20)
        got = backends.run_built(backends.BuildResult(build, binary, b), m, xs, timeout=60)
        assert_same_bytes(f"cmake build on {board}", backends.run(m, xs, "python"), got)


def shutil_which(name: str) -> bool:
    import shutil

    return bool(name) and shutil.which(name) is not None


@pytest.mark.qemu
def test_run_and_validate_take_a_board(tmp_path):
    require("arm-none-eabi-gcc", "qemu-system-arm", "qemu-aarch64", "aarch64-linux-gnu-gcc")
    enn_path = digits_enn()
    x = np.load(DIGITS / "test_x.npy")[:30]
    np.save(tmp_path / "x.npy", x)
    y = np.load(DIGITS / "test_y.npy")[:30]
    np.save(tmp_path / "y.npy", y)
    # --board alone selects the qemu backend
    r = edgenn("run", enn_path, "-i", tmp_path / "x.npy", "-o", tmp_path / "q.npy", "--board", "nrf52840")
    assert r.returncode == 0, r.stderr
    r = edgenn("run", enn_path, "-i", tmp_path / "x.npy", "-o", tmp_path / "p.npy")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "q.npy"), np.load(tmp_path / "p.npy"))
    r = edgenn("validate", DIGITS / "model.onnx", enn_path, "--data", tmp_path / "x.npy", "--labels",
               tmp_path / "y.npy", "--board", "rpi3", "--json", "-q")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["bit_exact"] and rep["backends"]["qemu"]["board"] == "rpi3"
    assert rep["backends"]["qemu"]["mismatched_bytes"] == 0
    r = edgenn("run", enn_path, "-i", tmp_path / "x.npy", "-o", tmp_path / "h.npy", "--backend", "host",
               "--board", "rpi3")
    assert_one_line_error(r, "--board rpi3 needs --backend qemu")
    r = edgenn("run", enn_path, "-i", tmp_path / "x.npy", "-o", tmp_path / "h.npy", "--board", "nope")
    assert_one_line_error(r, "unknown board")


def test_one_truth_about_fit_from_analyze_to_make(tmp_path):
    """A model whose library fits the STM32F446RE's 128 KB of RAM but whose test firmware does not
    (8 KB of stack reserved): analyze says so and why, generate refuses it in one line (nothing
    written), --force writes it with a warning, and the linker's overflow is the same number of
    bytes; running it on the board (`run`, as `validate` does) fails in one line."""
    from boards_common import ram_model
    from edgenn.format import enn

    b = get_board("stm32f446re")
    require(b.cc, "make")
    m = ram_model((b.ram_bytes - 4096) // 4)
    p = tmp_path / "ramfill.enn"
    enn.save(m, p)
    r = edgenn("analyze", p, "--board", b.name, "--json")
    fit = json.loads(r.stdout)["board"]
    lib = fit["libraries"][0]
    assert lib["ram"] <= b.ram_bytes < fit["ram_used"] and not fit["fits"], fit
    assert fit["ram_used"] - fit["firmware"]["stack_reserved"] < b.ram_bytes  # the stack reservation tips it over
    r = edgenn("analyze", p, "--board", b.name)
    assert "does NOT fit" in r.stdout and "library alone" in r.stdout, r.stdout
    out = tmp_path / "proj"
    r = edgenn("generate", p, "--board", b.name, "-o", out)
    line = assert_one_line_error(r, "does not fit stm32f446re", "RAM", "B over", "library alone", "--force")
    assert not out.exists()
    over = int(re.search(r"([\d,]+) B over", line).group(1).replace(",", ""))
    assert over == fit["ram_over"]
    r = edgenn("generate", p, "--board", b.name, "-o", out, "--force")
    assert r.returncode == 0 and "warning" in r.stderr and f"{over:,} B over" in r.stderr, r.stderr
    r = subprocess.run(["make", "-s", "-C", str(out), "firmware.elf"], capture_output=True, text=True)
    assert r.returncode != 0
    assert int(re.search(r"region `RAM' overflowed by (\d+) bytes", r.stderr).group(1)) == over
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 1, 1, 4), np.int8))
    r = edgenn("run", p, "-i", x, "-o", tmp_path / "y.npy", "--board", b.name)
    assert_one_line_error(r, "does not fit stm32f446re", f"{over:,} B over")


def test_build_failures_are_one_line(tmp_path):
    """A failed build names its cause in one line: the regions that overflowed with the bytes, or
    the first compiler/linker error (paths relative to the project)."""
    ld = ("/usr/bin/arm-none-eabi-ld: firmware.elf section `.bss' will not fit in region `RAM'\n"
          "/usr/bin/arm-none-eabi-ld: region `RAM' overflowed by 34328 bytes\n"
          "/usr/bin/arm-none-eabi-ld: region `FLASH' overflowed by 7 bytes\n"
          "collect2: error: ld returned 1 exit status\nmake: *** [Makefile:52: firmware.elf] Error 1\n")
    msg = backends.build_failure(ld, "firmware.elf", tmp_path)
    assert msg == "firmware.elf does not fit: RAM overflowed by 34,328 B, FLASH overflowed by 7 B " \
                  "(the linker's memory regions in the linker script)"
    require("gcc", "make")
    d = render_model(digits_model(), tmp_path / "p", get_board("host"))
    src = d / "lib" / "digits" / "src" / "digits.c"
    src.write_text(src.read_text().replace("return 0;\n}", "return undefined_thing;\n}", 1))
    with pytest.raises(EdgennError) as e:
        backends.make(d, "runner")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("building runner failed: lib/digits/src/digits.c:") \
        and "undefined_thing" in msg, msg
