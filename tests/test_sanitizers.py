"""The generated C of every test model under AddressSanitizer and UBSan on the host, and no
floating-point routine in the int8 firmware of a Cortex-M0 or Cortex-M3 board. (gcc -fanalyzer
and cppcheck on the kernels: tests/test_c_kernels.py.)

The op tests' random cases already build their host C with the same sanitizers
(tests/ops/harness.py SANITIZE); here the whole models of tests/test_models.py, the fuzz corpus
(imported .tflite models, a Huffman-compressed model) and two MLPerf Tiny models run through the
generated project's own runner.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from boards_common import model as board_model
from boards_common import random_inputs, require
from edgenn.boards import get_board
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.emulation import backends as be
from edgenn.format import enn
from edgenn.runtime_py.interpreter import Interpreter
from onnx_models import ds_residual_cnn

sys.path.insert(0, str(Path(__file__).resolve().parent / "ops"))
from harness import SANITIZE, SANITIZE_ENV  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "fuzz" / "corpus" / "enn"
MODELS = ["digits", "ds_residual", "kws", "ad"] + sorted(p.stem for p in CORPUS.glob("*.enn") if p.stem != "digits")


def _model(key: str, tmp_path: Path) -> enn.EnnModel:
    if key == "ds_residual":
        p = tmp_path / "dsres.onnx"
        onnx.save(ds_residual_cnn(seed=3), p)
        calib = np.random.default_rng(4).normal(0, 1, (16, 3, 16, 16)).astype(np.float32)
        return convert(p, [calib], ConvertOptions(name="dsres", progress=False))
    if key in ("digits", "kws", "ad"):
        return board_model(key)
    return enn.load(CORPUS / f"{key}.enn")


@pytest.mark.parametrize("key", MODELS)
def test_generated_c_is_clean_under_asan_and_ubsan(key, tmp_path, monkeypatch):
    require("gcc", "make")
    m = _model(key, tmp_path)
    for k, v in SANITIZE_ENV.items():
        monkeypatch.setenv(k, v)
    built = be.build(m, get_board("host"), tmp_path / m.name, cflags=" ".join(SANITIZE + ("-g",)))
    xs = random_inputs(m, 4, seed=7)
    got = be.run_built(built, m, xs, timeout=120)
    want = Interpreter(m).invoke(*xs)
    for k, (a, b) in enumerate(zip(want, got)):
        assert np.array_equal(a, b), f"{key}: output {k} differs from the Python reference under the sanitizers"


FLOAT_ROUTINES = re.compile(r"^(__aeabi_[fd]\w*|__aeabi_[ilu]*2[fd]|__(add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|"
                            r"unord)[sd]f\d|__(fix|fixuns|float|floatun|extend|trunc)\w*[sd]f\w*|__aeabi_cf\w*|"
                            r"__aeabi_cd\w*)$")


@pytest.mark.parametrize("board_name", ["microbit", "mps2-an385"])
@pytest.mark.parametrize("key", ["digits", "kws"])
def test_int8_firmware_links_no_floating_point_routine(board_name, key, tmp_path):
    board = get_board(board_name)
    assert board.core in ("cortex-m0", "cortex-m3")
    require(board.cc, "make")
    m = board_model(key)
    try:
        built = be.build(m, board, tmp_path / m.name)
    except Exception as e:  # noqa: BLE001 - a model too big for the micro:bit is reported, not linked
        if board_name == "microbit" and "does not fit" in str(e):
            pytest.skip(f"{key} does not fit {board_name}")
        raise
    nm = board.cc[:-3] + "nm"
    r = subprocess.run([nm, "--defined-only", str(built.binary)], capture_output=True, text=True, check=True)
    symbols = [line.split()[-1] for line in r.stdout.splitlines() if line.strip()]
    assert any(s.endswith("_invoke") for s in symbols), "the model is not in the firmware"
    floats = sorted(s for s in symbols if FLOAT_ROUTINES.match(s))
    assert not floats, f"{board_name} firmware of {key} links floating-point routines: {floats}"
