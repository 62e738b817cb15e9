"""Model integrity: the generated C checks its weights (``<name>_verify()``, CRC-32 stamped at
generation) on the emulated Cortex-M4 and on the host, and runtime_py refuses a damaged .enn file,
another format version and another file identifier, each with a clear one-line error."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from boards_common import require
from edgenn.boards import get_board
from edgenn.codegen.generate import render_library
from edgenn.errors import ModelFormatError
from edgenn.format import enn

sys.path.insert(0, str(Path(__file__).resolve().parent / "ops"))
from harness import firmware_harness, run_firmware  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "fuzz" / "corpus" / "enn"
VERIFY_MAIN = """#include "digits.h"
/* Exit status 0: the weights in flash are intact; 7: digits_verify() found them changed. */
int main(void) { return digits_verify() == 0 ? 0 : 7; }
"""


@pytest.fixture(scope="module")
def digits() -> enn.EnnModel:
    return enn.load(CORPUS / "digits.enn")


def flip_first_weight(weights_c: Path) -> None:
    """Change one byte of the first weight array of a generated <name>_weights.c (value ^ 1)."""
    text = weights_c.read_text()
    m = re.search(r"ALIGNED = \{\s*(-?\d+)", text)
    assert m, "no weight array in the generated weights file"
    flipped = str(int(m.group(1)) ^ 1)
    weights_c.write_text(text[:m.start(1)] + flipped + text[m.end(1):])


@pytest.mark.qemu
def test_verify_on_emulated_m4_reports_a_flipped_weight_byte(digits, tmp_path):
    board = get_board("mps2-an386")
    require(board.cc, "qemu-system-arm")
    startup, link = firmware_harness(board, tmp_path, digits)
    src = Path("fw") / "lib" / "digits" / "src"
    (tmp_path / "main.c").write_text(VERIFY_MAIN)
    sources = ["main.c", str(src / "digits_weights.c")]
    defines = [f"-I{src}"]
    run_firmware(tmp_path, board, sources, startup, link, defines, timeout=120, status=0)
    flip_first_weight(tmp_path / src / "digits_weights.c")
    run_firmware(tmp_path, board, sources, startup, link, defines, timeout=120, status=7)


def test_verify_on_host_checks_weights_and_parameters(digits, tmp_path):
    require("gcc")
    lib = render_library(digits, tmp_path / "digits", get_board("host"))
    src = lib / "src"
    header = (src / "digits.h").read_text()
    assert re.search(r"#define DIGITS_WEIGHTS_CRC32 0x[0-9A-F]{8}u", header) and "int digits_verify(void);" in header
    assert "digits_verify()" in (lib / "README.md").read_text()
    (tmp_path / "main.c").write_text(VERIFY_MAIN)

    def status() -> int:
        exe = tmp_path / "verify"
        r = subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{src}", "main.c",
                            str(src / "digits_weights.c"), "-o", str(exe)], cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
        return subprocess.run([str(exe)]).returncode

    pristine = (src / "digits_weights.c").read_text()
    assert status() == 0
    flip_first_weight(src / "digits_weights.c")
    assert status() == 7
    # A per-layer parameter array (requantization multipliers) is covered too.
    text = pristine
    m = re.search(r"const int32_t \w+\[\d+\] = \{\s*(-?\d+)", text)
    assert m
    (src / "digits_weights.c").write_text(text[:m.start(1)] + str(int(m.group(1)) + 1) + text[m.end(1):])
    assert status() == 7


def test_runtime_refuses_a_flipped_weight_byte(digits):
    data = bytearray(enn.to_bytes(digits))
    w = next(t for t in digits.tensors if t.is_const and t.dtype == "int8" and not t.is_encoded)
    at = bytes(data).find(w.data.tobytes())
    assert at > 0
    data[at + 3] ^= 0x01
    with pytest.raises(ModelFormatError, match=r"^x\.enn: the weights are damaged \(CRC-32 mismatch\)$"):
        enn.from_bytes(bytes(data), "x.enn")


def test_runtime_refuses_another_format_version(digits, tmp_path):
    other = enn.EnnModel(**{**digits.__dict__, "version": enn.FORMAT_VERSION + 1})
    p = tmp_path / "new.enn"
    p.write_bytes(enn.to_bytes(other))
    with pytest.raises(ModelFormatError, match=rf"new\.enn: \.enn format version {enn.FORMAT_VERSION + 1} is not "
                                               rf"supported \(expected {enn.FORMAT_VERSION}\)"):
        enn.load(p)


def test_runtime_refuses_another_identifier(digits):
    data = bytearray(enn.to_bytes(digits))
    assert data[8:12] == enn.FILE_IDENTIFIER
    data[8:12] = b"TFL3"
    with pytest.raises(ModelFormatError, match=r"not an edgenn \.enn file \(missing 'ENN1' identifier\)"):
        enn.from_bytes(bytes(data), "x.enn")


def test_cli_run_reports_a_damaged_file_in_one_line(digits, tmp_path):
    data = bytearray(enn.to_bytes(digits))
    w = next(t for t in digits.tensors if t.is_const and t.dtype == "int8" and not t.is_encoded)
    at = bytes(data).find(w.data.tobytes())
    data[at] ^= 0x80
    p = tmp_path / "bad.enn"
    p.write_bytes(bytes(data))
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 8, 8), np.float32))
    cli = shutil.which("edgenn", path=str(Path(sys.executable).parent)) or "edgenn"
    r = subprocess.run([cli, "run", str(p), "--input", str(tmp_path / "x.npy"), "-o", str(tmp_path / "y.npy")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "weights are damaged (CRC-32 mismatch)" in r.stderr
