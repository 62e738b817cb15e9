"""The drop-in library folder (lib/<name>/ of a generated project) builds as it is in each of the
usual embedded build systems, and the program built gives runtime_py's bytes:

- CMake: add_subdirectory(<name>) in a user's project (gcc, run on the host);
- Make: a user's Makefile that includes <name>.mk, and the folder's own Makefile (gcc);
- Arduino: Debian's arduino-builder (the Arduino IDE's builder) compiles a sketch that includes
  the libraries (library.properties, src/) for a minimal Cortex-M4 platform written here
  (platform.txt, boards.txt, a core with the generated start-up code); the .elf runs in QEMU;
- PlatformIO: its own manifest parser and schema (the platformio package) accept library.json and
  library.properties; PlatformIO cannot fetch a platform here, so the folder is compiled as its
  library builder does (build.srcDir compiled recursively, build.includeDir and srcDir on the
  include path) with arm-none-eabi-gcc and run in QEMU;
- Zephyr: zephyr/module.yml as Zephyr's module documentation describes it, zephyr/Kconfig parsed by
  kconfiglib (Zephyr's Kconfig library, from PyPI), and zephyr/CMakeLists.txt built by CMake with
  zephyr_library_named / zephyr_library_sources / zephyr_include_directories defined as Zephyr's
  cmake/modules/extensions.cmake documents them (Zephyr itself cannot be fetched here).

Two models (digits and a conv2d model) go into each program, so the folders also show that several
libraries coexist.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from boards_common import assert_same_bytes, conv_model, digits_inputs, digits_model, random_inputs, require
from edgenn.boards import get_board
from edgenn.codegen.generate import TEST_APP, library_dir, render_project
from edgenn.emulation import backends
from edgenn.runtime_py.interpreter import Interpreter

SAMPLES = 6

#: A user's program: SAMPLES samples of every model's inputs back to back on stdin, outputs on stdout.
_HOST_MAIN = r"""
#include <stdio.h>
#include <stdint.h>
%(includes)s

int main(void)
{
    static int8_t in[%(max_in)d];
    static int8_t out[%(max_out)d];
    int s;
%(calls)s
    return 0;
}
"""

_CALL = r"""    for (s = 0; s < %(n)d; s++) {
        if (fread(in, 1, %(P)sINPUT_BYTES, stdin) != %(P)sINPUT_BYTES || %(p)sinvoke(in, out) != 0) {
            return 1;
        }
        fwrite(out, 1, %(P)sOUTPUT_BYTES, stdout);
    }
"""


@pytest.fixture(scope="module")
def models():
    return [digits_model(), conv_model()]


@pytest.fixture(scope="module")
def inputs(models):
    return [digits_inputs(SAMPLES), random_inputs(models[1], SAMPLES)]


def project(models, board: str, root: Path) -> Path:
    """A generated project; its lib/<name>/ folders are what the tests drop into other build systems."""
    return render_project(models, root, get_board(board))


def program_text(template: str, call: str, include: str, models) -> str:
    """A test program from its template: the headers, one loop per model (SAMPLES samples), and
    buffers for the largest input and output."""
    calls = "".join(call % {"n": SAMPLES, "P": m.name.upper() + "_", "p": m.name + "_"} for m in models)
    return template % {"includes": "\n".join(include % m.name for m in models), "calls": calls,
                       "max_in": max(sum(m.tensors[d.tensor].nbytes for d in m.inputs) for m in models),
                       "max_out": max(sum(m.tensors[d.tensor].nbytes for d in m.outputs) for m in models)}


def host_main(models) -> str:
    return program_text(_HOST_MAIN, _CALL, '#include "%s.h"', models)


def sequential_blob(inputs) -> bytes:
    """Every model's SAMPLES samples, one model after the other."""
    return b"".join(np.ascontiguousarray(xs[0]).tobytes() for xs in inputs)


def check_sequential(models, inputs, data: bytes, what: str) -> None:
    """Outputs of every model's samples, one model after the other, equal runtime_py's."""
    off = 0
    for m, xs in zip(models, inputs):
        want = Interpreter(m).invoke(*xs)
        n = want[0].nbytes
        assert_same_bytes(f"{m.name} in {what}", want, [np.frombuffer(data[off:off + n], np.int8).reshape(want[0].shape)])
        off += n
    assert off == len(data)


def check_host_program(exe: Path, models, inputs) -> None:
    r = subprocess.run([str(exe)], input=sequential_blob(inputs), capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    check_sequential(models, inputs, r.stdout, exe.name)


def copy_libraries(models, proj: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for m in models:
        shutil.copytree(library_dir(proj, m.name), dest / m.name)


def run(cmd: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)}:\n{(r.stdout + r.stderr)[-3000:]}"
    return r


def host_app(models, tmp_path: Path, libraries: str) -> Path:
    """A user's project folder for this computer: main.c, and the libraries copied into ``libraries``."""
    app = tmp_path / "app"
    copy_libraries(models, project(models, "host", tmp_path / "gen"), app / libraries)
    (app / "main.c").write_text(host_main(models))
    return app


def test_library_folder_in_a_cmake_project(models, inputs, tmp_path):
    require("cmake", "gcc")
    app = host_app(models, tmp_path, "third_party")
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\n"
        + "".join(f"add_subdirectory(third_party/{m.name})\n" for m in models)
        + "add_executable(app main.c)\n"
        + f"target_link_libraries(app PRIVATE {' '.join(m.name for m in models)})\n")
    run(["cmake", "-S", ".", "-B", "build"], app)
    run(["cmake", "--build", "build"], app)
    check_host_program(app / "build" / "app", models, inputs)


def test_library_folder_in_a_makefile_project(models, inputs, tmp_path):
    require("make", "gcc")
    app = host_app(models, tmp_path, "lib")
    mk = "".join(f"include lib/{m.name}/{m.name}.mk\n" for m in models)
    srcs = " ".join(f"$({m.name.upper()}_SRCS)" for m in models)
    flags = " ".join(f"$({m.name.upper()}_CFLAGS)" for m in models)
    (app / "Makefile").write_text(
        f"{mk}CFLAGS = -std=c99 -O2 -Wall -Wextra -Werror {flags}\n"
        f"SRCS = main.c {srcs}\napp: $(SRCS:.c=.o)\n\t$(CC) $(CFLAGS) $^ -o $@\n")
    run(["make", "-s", "app"], app)
    check_host_program(app / "app", models, inputs)
    # the folder's own Makefile builds the static library (here for this computer)
    for m in models:
        run(["make", "-s", "-C", f"lib/{m.name}", "CC=gcc", "AR=ar", "ARCH_FLAGS="], app)
        assert (app / "lib" / m.name / f"lib{m.name}.a").exists()


# ---- Arduino: arduino-builder with a minimal Cortex-M4 platform ----

_PLATFORM = """name=edgenn test platform (Cortex-M4 under QEMU)
version=1.0.0
compiler.path=/usr/bin/
compiler.c.cmd=arm-none-eabi-gcc
compiler.cpp.cmd=arm-none-eabi-g++
compiler.ar.cmd=arm-none-eabi-ar
compiler.size.cmd=arm-none-eabi-size
compiler.c.flags=-c -O2 -std=gnu11 -Wall -ffunction-sections -fdata-sections -MMD
compiler.cpp.flags=-c -O2 -std=gnu++11 -Wall -fno-exceptions -fno-rtti -fno-threadsafe-statics -ffunction-sections -fdata-sections -MMD
compiler.ar.flags=rcs
compiler.c.elf.flags=-nostdlib -nostartfiles -Wl,--gc-sections
recipe.c.o.pattern="{compiler.path}{compiler.c.cmd}" {compiler.c.flags} {build.mcu_flags} -DARDUINO={runtime.ide.version} -DARDUINO_{build.board} -DARDUINO_ARCH_{build.arch} {includes} "{source_file}" -o "{object_file}"
recipe.cpp.o.pattern="{compiler.path}{compiler.cpp.cmd}" {compiler.cpp.flags} {build.mcu_flags} -DARDUINO={runtime.ide.version} -DARDUINO_{build.board} -DARDUINO_ARCH_{build.arch} {includes} "{source_file}" -o "{object_file}"
recipe.S.o.pattern="{compiler.path}{compiler.c.cmd}" -c -x assembler-with-cpp {build.mcu_flags} {includes} "{source_file}" -o "{object_file}"
recipe.ar.pattern="{compiler.path}{compiler.ar.cmd}" {compiler.ar.flags} "{archive_file_path}" "{object_file}"
recipe.c.combine.pattern="{compiler.path}{compiler.c.cmd}" {build.mcu_flags} {compiler.c.elf.flags} "-T{build.core.path}/link.ld" -o "{build.path}/{build.project_name}.elf" {object_files} "{build.path}/{archive_file}" -lgcc
recipe.size.pattern="{compiler.path}{compiler.size.cmd}" -A "{build.path}/{build.project_name}.elf"
recipe.size.regex=^(?:\\.text|\\.data)\\s+([0-9]+).*
"""

_BOARDS = """m4.name=edgenn test board: Cortex-M4 (QEMU mps2-an386)
m4.build.mcu_flags=-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
m4.build.board=EDGENN_M4
m4.build.core=edgenn
m4.upload.maximum_size=4194304
"""

_ARDUINO_H = """#ifndef ARDUINO_H
#define ARDUINO_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
void setup(void);
void loop(void);
/* from startup.c (edgenn's test application) */
int32_t fw_semihost(int32_t op, const void *arg);
void fw_exit(int code);
#ifdef __cplusplus
}
#endif
#endif
"""

_CORE_MAIN = """#include "Arduino.h"

extern "C" int main(void)
{
    setup();
    for (;;) {
        loop();
    }
}
"""

#: The sketch: inputs.bin through every model, outputs.bin back, over semihosting.
_SKETCH = r"""%(includes)s

static int8_t in[%(max_in)d];
static int8_t out[%(max_out)d];

static int32_t call3(int32_t op, uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t args[3] = {a, b, c};
    return fw_semihost(op, args);
}

void setup()
{
    int32_t fin = call3(0x01, (uint32_t)(uintptr_t)"inputs.bin", 1, 10);
    int32_t fout = call3(0x01, (uint32_t)(uintptr_t)"outputs.bin", 5, 11);
    if (fin < 0 || fout < 0) {
        fw_exit(3);
    }
%(calls)s
    fw_semihost(0x02, &fout);
    fw_exit(0);
}

void loop()
{
}
"""

_SKETCH_CALL = r"""    for (int s = 0; s < %(n)d; s++) {
        if (call3(0x06, (uint32_t)fin, (uint32_t)(uintptr_t)in, %(P)sINPUT_BYTES) != 0 || %(p)sinvoke(in, out) != 0) {
            fw_exit(7);
        }
        call3(0x05, (uint32_t)fout, (uint32_t)(uintptr_t)out, %(P)sOUTPUT_BYTES);
    }
"""


def firmware_outputs(models, inputs, elf: Path, workdir: Path) -> None:
    """Run ``elf`` on mps2-an386 with inputs.bin (every model's samples in turn) and check outputs.bin."""
    b = get_board("mps2-an386")
    res = backends.run_raw(backends.BuildResult(workdir, elf, b), sequential_blob(inputs), timeout=120)
    check_sequential(models, inputs, res.data, elf.name)


@pytest.mark.qemu
def test_arduino_library_builds_with_arduino_builder(models, inputs, tmp_path):
    require("arduino-builder", "arduino-ctags", "arm-none-eabi-g++", "qemu-system-arm")
    proj = project(models, "mps2-an386", tmp_path / "gen")
    libs = tmp_path / "libraries"
    copy_libraries(models, proj, libs)
    plat = tmp_path / "hardware" / "edgenn" / "arm"
    core = plat / "cores" / "edgenn"
    core.mkdir(parents=True)
    (plat / "platform.txt").write_text(_PLATFORM)
    (plat / "boards.txt").write_text(_BOARDS)
    (core / "Arduino.h").write_text(_ARDUINO_H)
    (core / "main.cpp").write_text(_CORE_MAIN)
    for f in ("startup.c", "link.ld"):
        shutil.copy(proj / TEST_APP / f, core / f)
    sketch = tmp_path / "sketch" / "models"
    sketch.mkdir(parents=True)
    (sketch / "models.ino").write_text(program_text(_SKETCH, _SKETCH_CALL, "#include <%s.h>", models))
    build = tmp_path / "build"
    build.mkdir()
    r = run(["arduino-builder", "-compile", "-hardware", str(tmp_path / "hardware"), "-hardware", "/usr/share/arduino-builder",
             "-tools", "/usr/bin", "-libraries", str(libs), "-fqbn", "edgenn:arm:m4", "-build-path", str(build),
             "-ide-version", "10819", "-warnings", "all", str(sketch / "models.ino")], tmp_path)
    # the builder found each library from its header and compiled its src/ (the kernels too)
    for m in models:
        assert (build / "libraries" / m.name / f"{m.name}.c.o").exists(), r.stdout[-2000:]
        assert (build / "libraries" / m.name / "kernels" / "conv2d.c.o").exists()
    firmware_outputs(models, inputs, build / "models.ino.elf", tmp_path)


# ---- PlatformIO ----

def test_platformio_manifests_are_valid(models, tmp_path):
    """library.json and library.properties, read by PlatformIO's own manifest parser and schema."""
    parser = pytest.importorskip("platformio.package.manifest.parser")
    schema = pytest.importorskip("platformio.package.manifest.schema")
    proj = project(models, "mps2-an386", tmp_path / "gen")
    for m in models:
        lib = library_dir(proj, m.name)
        manifest = parser.ManifestParserFactory.new_from_dir(str(lib))
        data = manifest.as_dict()
        assert isinstance(manifest, parser.LibraryJsonManifestParser)  # library.json comes first
        loaded = schema.ManifestSchema().load_manifest(data)
        assert loaded["name"] == m.name and loaded["headers"] == [f"{m.name}.h"]
        assert data["build"] == {"srcDir": "src", "includeDir": "src"}
        props = parser.LibraryPropertiesManifestParser((lib / "library.properties").read_text()).as_dict()
        loaded = schema.ManifestSchema().load_manifest(props)
        assert loaded["name"] == m.name and loaded["headers"] == [f"{m.name}.h"] and loaded["version"] == data["version"]


@pytest.mark.qemu
def test_platformio_library_compiles_as_its_library_builder_does(models, inputs, tmp_path):
    """No PlatformIO platform can be fetched here: compile each lib/<name> the way PlatformIO's library
    builder does from library.json (every C file under build.srcDir, with build.includeDir and
    srcDir on the include path), link with the project's test firmware and run it in QEMU."""
    require("arm-none-eabi-gcc", "qemu-system-arm", "make")
    b = get_board("mps2-an386")
    proj = project(models, b.name, tmp_path / "gen")
    pio = tmp_path / "pio"
    copy_libraries(models, proj, pio / "lib")
    flags = [*b.cflags, "-O2", "-ffunction-sections", "-fdata-sections"]
    objs, includes = [], []
    for m in models:
        lib = pio / "lib" / m.name
        build = json.loads((lib / "library.json").read_text()).get("build", {})
        src, inc = lib / build.get("srcDir", "src"), lib / build.get("includeDir", "include")
        paths = [f"-I{inc}", f"-I{src}"]
        includes += paths
        for c in sorted(src.rglob("*.c")):
            obj = pio / "obj" / m.name / (str(c.relative_to(src)) + ".o")
            obj.parent.mkdir(parents=True, exist_ok=True)
            run([b.cc, *flags, *build.get("flags", []), *paths, "-c", str(c), "-o", str(obj)], pio)
            objs.append(str(obj))
    # the application: the generated project's test firmware (main + start-up code), built here
    app = proj / TEST_APP
    for c in ("main_fw.c", "startup.c"):
        run([b.cc, *flags, "-ffreestanding", *includes, "-c", str(app / c), "-o", str(pio / f"{c}.o")], pio)
    run([b.cc, *b.cflags, "-nostdlib", "-nostartfiles", "-Wl,--gc-sections", "-T", str(app / "link.ld"),
         "main_fw.c.o", "startup.c.o", *objs, "-lgcc", "-o", "firmware.elf"], pio)
    firmware_outputs_interleaved(models, inputs, pio / "firmware.elf", pio)


def firmware_outputs_interleaved(models, inputs, elf: Path, workdir: Path) -> None:
    """Run the generated test firmware (each sample: every model's inputs in turn) and check it."""
    b = get_board("mps2-an386")
    blob = b"".join(np.ascontiguousarray(xs[0][k]).tobytes() for k in range(SAMPLES) for xs in inputs)
    res = backends.run_raw(backends.BuildResult(workdir, elf, b), blob, timeout=120)
    per = [sum(m.tensors[d.tensor].nbytes for d in m.outputs) for m in models]
    rows = np.frombuffer(res.data, np.uint8).reshape(SAMPLES, sum(per))
    off = 0
    for m, xs, n in zip(models, inputs, per):
        want = Interpreter(m).invoke(*xs)
        assert_same_bytes(f"{m.name} in {elf.name}", want,
                          [rows[:, off:off + n].copy().view(np.int8).reshape(want[0].shape)])
        off += n


# ---- Zephyr ----

#: Zephyr's CMake extensions for libraries, as cmake/modules/extensions.cmake documents them:
#: zephyr_library_named(name) makes a static library (the "current" one) that links zephyr_interface;
#: zephyr_library_sources() adds sources to it; zephyr_include_directories() adds include
#: directories for all of Zephyr's code and the application (zephyr_interface).
_ZEPHYR_EXTENSIONS = """
add_library(zephyr_interface INTERFACE)
set(EDGENN_ZEPHYR_LIBRARIES "" CACHE INTERNAL "")
macro(zephyr_library_named name)
  set(ZEPHYR_CURRENT_LIBRARY ${name})
  add_library(${name} STATIC "")
  set(EDGENN_ZEPHYR_LIBRARIES ${EDGENN_ZEPHYR_LIBRARIES} ${name} CACHE INTERNAL "")
  target_link_libraries(${name} PUBLIC zephyr_interface)
endmacro()
function(zephyr_library_sources source)
  target_sources(${ZEPHYR_CURRENT_LIBRARY} PRIVATE ${source} ${ARGN})
endfunction()
function(zephyr_include_directories)
  target_include_directories(zephyr_interface INTERFACE ${ARGN})
endfunction()
"""


def test_zephyr_module(models, inputs, tmp_path):
    yaml = pytest.importorskip("yaml")
    kconfiglib = pytest.importorskip("kconfiglib")
    require("cmake", "gcc")
    proj = project(models, "host", tmp_path / "gen")
    modules = tmp_path / "modules"
    copy_libraries(models, proj, modules)
    top_kconfig = []
    for m in models:
        mod = modules / m.name
        desc = yaml.safe_load((mod / "zephyr" / "module.yml").read_text())
        # the documented keys: name, build.cmake (a folder with a CMakeLists.txt), build.kconfig (a file)
        assert set(desc) == {"name", "build"} and set(desc["build"]) == {"cmake", "kconfig"}, desc
        assert desc["name"] == m.name
        assert (mod / desc["build"]["cmake"] / "CMakeLists.txt").is_file()
        assert (mod / desc["build"]["kconfig"]).is_file()
        top_kconfig.append(f'source "{mod / desc["build"]["kconfig"]}"')
    # Kconfig: Zephyr's tree sources each module's Kconfig; the application's prj.conf enables them
    (tmp_path / "Kconfig").write_text("mainmenu \"edgenn test\"\n" + "\n".join(top_kconfig) + "\n")
    kconf = kconfiglib.Kconfig(str(tmp_path / "Kconfig"), warn_to_stderr=False)
    assert not kconf.warnings, kconf.warnings
    conf = tmp_path / "prj.conf"
    conf.write_text("".join(f"CONFIG_EDGENN_{m.name.upper()}=y\n" for m in models))
    kconf.load_config(str(conf))
    for m in models:
        sym = kconf.syms[f"EDGENN_{m.name.upper()}"]
        assert sym.type == kconfiglib.BOOL and sym.nodes[0].prompt and sym.str_value == "y"
        assert m.name in sym.nodes[0].help
    # CMake: the modules' zephyr/CMakeLists.txt, with CONFIG_ values as Zephyr's build gives them
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.c").write_text(host_main(models))
    configs = "".join(f"set({sym.name if sym.name.startswith('CONFIG_') else 'CONFIG_' + sym.name} "
                      f"{sym.str_value})\n" for sym in kconf.unique_defined_syms if sym.str_value == "y")
    (app / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\n" + _ZEPHYR_EXTENSIONS + configs
        + "".join(f"add_subdirectory({modules / m.name / 'zephyr'} {m.name})\n" for m in models)
        + "add_executable(app main.c)\n"
        + "target_link_libraries(app PRIVATE zephyr_interface ${EDGENN_ZEPHYR_LIBRARIES})\n")
    run(["cmake", "-S", ".", "-B", "build"], app)
    run(["cmake", "--build", "build"], app)
    check_host_program(app / "build" / "app", models, inputs)
    # a module that is not enabled adds nothing
    conf.write_text("")
    kconf.load_config(str(conf))
    assert all(kconf.syms[f"EDGENN_{m.name.upper()}"].str_value == "n" for m in models)
