"""`generate --optimize speed|size`: the projects' optimization level, per board.

- speed (the default) is the board's own level: -O2 on the microcontrollers, -O3 on the 64-bit
  Raspberry Pis, where GCC's vectorizer turns the portable kernels into NEON code;
- size is -Os: a smaller library for the same bytes out;
- every level gives runtime_py's bytes (emulated Cortex-M4 and Cortex-A72 here).
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from boards_common import assert_same_bytes, digits_inputs, digits_model, require_board
from edgenn.boards import get_board, optimized_for
from edgenn.emulation import backends
from edgenn.errors import EdgennError
from edgenn.fit import fit_report
from edgenn.format.enn import save
from edgenn.runtime_py.interpreter import Interpreter


@pytest.fixture(scope="module")
def model():
    return digits_model()


def test_board_levels():
    assert get_board("stm32l4r5zi").opt == "-O2"
    assert get_board("rpi4").opt == "-O3" and get_board("rpi5").opt == "-O3"
    assert optimized_for(get_board("rpi4"), "size").opt == "-Os"
    assert optimized_for(get_board("rpi4"), "speed") == get_board("rpi4")
    with pytest.raises(EdgennError, match="--optimize must be one of speed, size"):
        optimized_for(get_board("rpi4"), "fast")


@pytest.mark.parametrize("board,goal", [("stm32l4r5zi", "size"), ("rpi4", "speed")])
def test_levels_give_the_same_bytes(model, board, goal, tmp_path):
    b = optimized_for(get_board(board), goal)
    require_board(b)
    xs = digits_inputs(8)
    build = backends.build(model, b, tmp_path / "p")
    assert f"OPT = {b.opt}\n" in (tmp_path / "p" / "Makefile").read_text()
    got = backends.run_built(build, model, xs)
    assert_same_bytes(f"{board} {b.opt}", Interpreter(model).invoke(*xs), got)


def test_size_makes_a_smaller_library(model):
    b = get_board("stm32l4r5zi")
    require_board(b)
    speed = fit_report(model, b)["libraries"][0]["flash"]
    size = fit_report(model, optimized_for(b, "size"))["libraries"][0]["flash"]
    assert size < speed, (size, speed)


def test_generate_writes_the_level(model, tmp_path):
    enn = tmp_path / "digits.enn"
    save(model, enn)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "edgenn", "generate", str(enn), "--board", "rpi4", "--optimize", "size",
                        "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "OPT = -Os\n" in (out / "Makefile").read_text()
    assert "OPT = -Os\n" in (out / "lib" / "digits" / "Makefile").read_text()
    r = subprocess.run([sys.executable, "-m", "edgenn", "generate", str(enn), "--board", "rpi4", "--optimize", "fast",
                        "-o", str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode != 0 and "fast" in r.stderr and "Traceback" not in r.stderr
