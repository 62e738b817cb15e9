"""`edgenn deploy`: the Raspberry Pi package (shared library, runner, Python binding) and copying it
with scp (a fake scp on PATH: no real host is contacted)."""
from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from boards_common import DIGITS, assert_same_bytes, digits_inputs, digits_model, mlperf_model, random_inputs, \
    require, require_board
from edgenn.boards import get_board
from edgenn.deploy import deploy, list_archive
from edgenn.emulation import backends
from edgenn.format import enn
from edgenn.runtime_py import dataio

EM_AARCH64, EM_ARM = 183, 40


def edgenn(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgenn", *map(str, args)], capture_output=True, text=True,
                          timeout=600, env=env)


def elf_machine(path: Path) -> int:
    head = path.read_bytes()[:20]
    assert head[:4] == b"\x7fELF", path
    return int.from_bytes(head[18:20], "little")


@pytest.fixture(scope="module")
def digits_enn(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("enn") / "digits.enn"
    enn.save(digits_model(), p)
    return p


def extract(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    (root,) = [p for p in dest.iterdir() if p.is_dir()]
    return root


@pytest.mark.parametrize("board,machine", [("rpi4", EM_AARCH64), ("rpi2", EM_ARM)])
def test_pi_package_contents(board, machine, digits_enn, tmp_path):
    require(get_board(board).cc, "make")
    out = tmp_path / "digits.tar.gz"
    r = edgenn("deploy", digits_enn, "--board", board, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "bin/libdigits.so" in r.stdout
    names = list_archive(out)
    assert all(n == "digits" or n.startswith("digits/") for n in names)
    for f in ("README.md", "digits.py", "Makefile", "CMakeLists.txt", "toolchain.cmake", "lib/digits/src/digits.c",
              "lib/digits/src/digits.h", "lib/digits/library.json", "test_app/main_host.c", "bin/libdigits.so",
              "bin/runner", "bin/libdigits.a"):
        assert f"digits/{f}" in names, f
    root = extract(out, tmp_path / "x")
    assert elf_machine(root / "bin" / "runner") == machine
    assert elf_machine(root / "bin" / "libdigits.so") == machine
    assert os.access(root / "bin" / "runner", os.X_OK)
    readme = (root / "README.md").read_text()
    assert "from digits import Model" in readme and get_board(board).cc in readme


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["rpi3-32"])
def test_pi_package_runs_under_qemu_user(board, digits_enn, tmp_path):
    """The prebuilt static runner and, through a runner linked against it, the prebuilt .so, with
    the cross toolchain's libc (rpi4 and rpi2 with Debian's own: tests/test_pi_python.py)."""
    b = get_board(board)
    require_board(b)
    out = tmp_path / "pkg.tgz"
    deploy(digits_enn, b, out)
    root = extract(out, tmp_path / "x")
    m = digits_model()
    xs = digits_inputs(40)
    want = backends.run(m, xs, "python")
    (root / "inputs.bin").write_bytes(backends.pack_inputs(m, xs))
    qemu = [b.emulator["kind"], "-cpu", b.emulator["cpu"]]
    r = subprocess.run(qemu + ["bin/runner", "inputs.bin", "out_static.bin"], cwd=root, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert_same_bytes(f"static runner on {board}", want, backends.unpack_outputs(m, (root / "out_static.bin").read_bytes(), 40))
    # the package's own Makefile builds a runner that loads bin/libdigits.so
    r = subprocess.run(["make", "-s", "test_app/main_host.o"], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([b.cc, *b.cflags, "test_app/main_host.o", "-Lbin", "-ldigits", "-Wl,-rpath,$ORIGIN/bin",
                        "-o", "runner-shared"], cwd=root, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(qemu + ["-L", b.emulator["sysroot"], "./runner-shared", "inputs.bin", "out_shared.bin"],
                       cwd=root, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (root / "out_shared.bin").read_bytes() == (root / "out_static.bin").read_bytes()


def _import_binding(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_binding_{abs(hash(path))}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_python_binding_returns_the_reference_bytes(digits_enn, tmp_path):
    """The binding of the package, with the library built for this computer (the same sources
    and binding the Pi gets; `deploy --board host` builds the .so with gcc)."""
    require("gcc", "make")
    out = tmp_path / "host.tar.gz"
    deploy(digits_enn, "host", out)
    root = extract(out, tmp_path / "x")
    elf_machine(root / "bin" / "libdigits.so")
    binding = _import_binding(root / "digits.py", "digits")
    model = binding.Model()  # finds bin/libdigits.so
    m = digits_model()
    x = np.load(DIGITS / "test_x.npy")[:60]
    xs = dataio.to_internal(m, [x])
    want_int8 = backends.run(m, xs, "python")
    # float in the source layout (NCHW) -> float out, quantized and dequantized as edgenn does
    y = model(x)
    assert y.dtype == np.float32
    assert np.array_equal(y, dataio.from_internal(m, want_int8, as_float=True)[0])
    # int8 internal layout -> int8
    assert_same_bytes("binding int8", want_int8, model.invoke_int8(*xs))
    # int8 in the source layout, and one sample without the N axis
    q = dataio.quantize(x, m.tensors[m.inputs[0].tensor])  # int8, the source's NCHW layout
    assert np.array_equal(model(q), dataio.from_internal(m, want_int8, as_float=False)[0])
    assert np.array_equal(model(x[:1]), y[:1]) and np.array_equal(model(x[:1][None]), y[:1])
    with pytest.raises(ValueError, match="shape"):
        model(np.zeros((3, 5), np.float32))


@pytest.mark.qemu
def test_binding_with_a_multi_layer_mlperf_model(tmp_path):
    """KWS through the host build of the binding: int8 in, int8 out, equal to runtime_py."""
    require("gcc", "make")
    m = mlperf_model("kws")
    p = tmp_path / "kws.enn"
    enn.save(m, p)
    out = tmp_path / "kws.tgz"
    deploy(p, "host", out)
    root = extract(out, tmp_path / "x")
    binding = _import_binding(root / "kws_ref_model.py", "kws_ref_model")
    xs = random_inputs(m, 5)
    assert_same_bytes("kws binding", backends.run(m, xs, "python"), binding.Model().invoke_int8(*xs))


def test_bare_metal_package(digits_enn, tmp_path):
    require("arm-none-eabi-gcc", "make")
    out = tmp_path / "fw.tar.gz"
    r = deploy(digits_enn, "stm32f446re", out)
    names = list_archive(out)
    for f in ("bin/firmware.elf", "bin/firmware-qemu.elf", "bin/libdigits.a", "test_app/link.ld",
              "test_app/link_qemu.ld", "test_app/startup.c", "lib/digits/library.properties"):
        assert f"digits/{f}" in names, f
    assert r["prebuilt"] == ["bin/libdigits.a", "bin/firmware.elf", "bin/firmware-qemu.elf"]


def _fake_scp(tmp_path: Path, rc: int = 0, stderr: str = "") -> tuple[dict, Path]:
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    log = tmp_path / "scp.log"
    script = bindir / "scp"
    script.write_text("#!/bin/sh\n"
                      f"printf '%s\\n' \"$@\" > '{log}'\n"
                      f"for a in \"$@\"; do last=\"$a\"; done\n"
                      f"[ {rc} -eq 0 ] && for a in \"$@\"; do case \"$a\" in *.tar.gz) cp \"$a\" '{tmp_path}/copied.tar.gz';; esac; done\n"
                      + (f"echo '{stderr}' >&2\n" if stderr else "")
                      + f"exit {rc}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return env, log


def test_deploy_copies_with_scp(digits_enn, tmp_path):
    require("aarch64-linux-gnu-gcc", "make")
    env, log = _fake_scp(tmp_path)
    out = tmp_path / "model.tar.gz"
    r = edgenn("deploy", digits_enn, "--board", "rpi4", "-o", out, "--host", "pi@raspberrypi.local", env=env)
    assert r.returncode == 0, r.stderr
    args = log.read_text().splitlines()
    assert args[-2:] == [str(out), "pi@raspberrypi.local:"]
    assert "BatchMode=yes" in args
    assert (tmp_path / "copied.tar.gz").read_bytes() == out.read_bytes()
    assert "copied to pi@raspberrypi.local:" in r.stdout
    # a directory on the Pi
    r = edgenn("deploy", digits_enn, "--board", "rpi4", "-o", out, "--host", "pi@10.0.0.2:models/", "--no-build",
               env=env)
    assert r.returncode == 0, r.stderr
    assert log.read_text().splitlines()[-1] == "pi@10.0.0.2:models/"


def test_deploy_errors(digits_enn, tmp_path):
    env, _ = _fake_scp(tmp_path, rc=1, stderr="pi@nohost: Permission denied (publickey).")
    out = tmp_path / "model.tar.gz"
    r = edgenn("deploy", digits_enn, "--board", "rpi4", "-o", out, "--host", "pi@nohost", "--no-build", env=env)
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "scp failed" in lines[0] and "Permission denied" in lines[0], r.stderr
    for args, needle in [
        (["--board", "rpi4", "-o", tmp_path / "x.zip"], ".tar.gz"),
        (["--board", "nope", "-o", out], "unknown board"),
        (["--board", "rpi4", "-o", out, "--host", "-oProxyCommand=x"], "--host"),
    ]:
        r = edgenn("deploy", digits_enn, *args, "--no-build", env=env)
        assert r.returncode == 2, (args, r.stderr)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and needle in lines[0], (args, r.stderr)
