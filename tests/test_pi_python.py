"""The Raspberry Pi package (`edgenn deploy --board rpi4 / rpi2`) on a real Pi userland, emulated:
Debian's own arm64 and armhf python3.11 and numpy (unpacked into sysroots by scripts/setup.sh,
nothing pip-installed) run under qemu-aarch64 / qemu-arm, load the package's cross-compiled
lib<name>.so through its Python binding and must give runtime_py's bytes; the package's runners
(static, and linked against lib<name>.so and Debian's glibc) too."""
from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

from boards_common import DIGITS, assert_same_bytes, digits_inputs, digits_model, require, require_board
from edgenn.boards import get_board
from edgenn.deploy import deploy
from edgenn.emulation import backends
from edgenn.format import enn
from edgenn.runtime_py import dataio

#: Debian architecture of each compiler of the Linux boards.
ARCH = {"aarch64-linux-gnu-gcc": "arm64", "arm-linux-gnueabihf-gcc": "armhf"}
SAMPLES = 24


def pi_sysroot(board) -> Path:
    """The board's Debian sysroot with python3.11 and numpy (scripts/setup.sh makes it); skipped
    when missing, a failure in CI."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgenn" / "pi-python"
    root = cache / ARCH[board.cc]
    if not (root / "usr" / "bin" / "python3.11").exists() or not (root / ".edgenn-sysroot").exists():
        msg = f"no Debian {ARCH[board.cc]} python3.11 in {root} (run `make setup`)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return root


_SCRIPT = """
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from digits import Model
model = Model()
x = np.load(sys.argv[2])
np.save(sys.argv[3], model(x))                                 # float in the source layout -> float out
np.save(sys.argv[4], model.invoke_int8(np.load(sys.argv[5]))[0])  # int8, internal layout
print(sys.version.split()[0], np.__version__, model.lib._name)
"""


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["rpi4", "rpi2"])
def test_pi_package_with_debian_python_under_qemu_user(board, tmp_path):
    b = get_board(board)
    require_board(b)
    root = pi_sysroot(b)
    p = tmp_path / "digits.enn"
    enn.save(digits_model(), p)
    deploy(p, b, tmp_path / "digits.tar.gz")
    with tarfile.open(tmp_path / "digits.tar.gz") as tar:
        tar.extractall(tmp_path / "x", filter="data")
    pkg = tmp_path / "x" / "digits"
    m = digits_model()
    x = np.load(DIGITS / "test_x.npy")[:SAMPLES]
    xs = digits_inputs(SAMPLES)
    want = backends.run(m, xs, "python")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "xi.npy", xs[0])
    (tmp_path / "check.py").write_text(_SCRIPT)
    qemu = [b.emulator["kind"], "-cpu", b.emulator["cpu"], "-L", str(root)]
    r = subprocess.run(qemu + [str(root / "usr" / "bin" / "python3.11"), "-I", str(tmp_path / "check.py"), str(pkg),
                               str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), str(tmp_path / "yi.npy"),
                               str(tmp_path / "xi.npy")],
                       capture_output=True, text=True, timeout=600, env={"PATH": os.environ.get("PATH", "")})
    assert r.returncode == 0, r.stderr[-3000:]
    version, numpy_version, lib = r.stdout.split()
    assert version.startswith("3.11") and lib.endswith("bin/libdigits.so"), r.stdout
    # the binding's float path: quantized, run, dequantized exactly as runtime_py's
    y = np.load(tmp_path / "y.npy")
    assert y.dtype == np.float32 and y.tobytes() == dataio.from_internal(m, want, as_float=True)[0].tobytes()
    assert_same_bytes(f"Debian {ARCH[b.cc]} python3.11 + numpy {numpy_version}, binding", want,
                      [np.load(tmp_path / "yi.npy")])

    # the C runners: static, and linked against the package's lib<name>.so and Debian's glibc
    (pkg / "inputs.bin").write_bytes(backends.pack_inputs(m, xs))
    r = subprocess.run(qemu + ["bin/runner", "inputs.bin", "out_static.bin"], cwd=pkg, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert_same_bytes("static runner", want, backends.unpack_outputs(m, (pkg / "out_static.bin").read_bytes(), SAMPLES))
    require("make")
    r = subprocess.run(["make", "-s", "test_app/main_host.o"], cwd=pkg, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([b.cc, *b.cflags, "test_app/main_host.o", "-Lbin", "-ldigits", "-Wl,-rpath,$ORIGIN/bin",
                        "-o", "runner-shared"], cwd=pkg, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(qemu + ["./runner-shared", "inputs.bin", "out_shared.bin"], cwd=pkg, capture_output=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert_same_bytes("runner linked against lib<name>.so", want,
                      backends.unpack_outputs(m, (pkg / "out_shared.bin").read_bytes(), SAMPLES))
