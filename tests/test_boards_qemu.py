"""Every emulated board runs the digits example and MLPerf Tiny models bit-exact.

One firmware (or Pi runner) per board and model, run once on many samples: the digits test
images, random int8 inputs for the MLPerf Tiny models (the first all -128, the second all 127).
The micro:bit (16 KB RAM, 256 KB flash) fits KWS but not AD (266 KB of weights) nor VWW and IC
(their arenas); test_boards.py checks that this is reported. Its Cortex-M0 runs all of them as
the RP2040 (the same nRF51 machine in QEMU, enlarged to the RP2040's memory).
"""
from __future__ import annotations

import pytest

from boards_common import assert_same_bytes, inputs_for, model, require_board
from edgenn.boards import all_boards
from edgenn.emulation import backends

EMULATED = sorted(b.name for b in all_boards().values() if b.emulated)
#: Boards too small for AD (weights) and VWW/IC (arenas).
TINY = {"microbit"}
#: The boards of the benchmark (M4, M7, M55, aarch64 and 32-bit Arm Linux) also run the two big models.
BIG_MODEL_BOARDS = ("mps2-an386", "mps2-an500", "mps3-an547", "rpi4", "rpi2")
SAMPLES = {"digits": 360, "kws": 8, "ad": 8, "vww": 3, "ic": 3}

CASES = ([(b, "digits") for b in EMULATED]
         + [(b, "kws") for b in EMULATED]
         + [(b, "ad") for b in EMULATED if b not in TINY]
         + [(b, m) for b in BIG_MODEL_BOARDS for m in ("vww", "ic")])

_expected: dict[str, list] = {}


def expected(key: str, xs):
    if key not in _expected:
        _expected[key] = backends.run(model(key), xs, backend="python")
    return _expected[key]


@pytest.mark.qemu
@pytest.mark.parametrize("board,key", CASES, ids=[f"{b}-{m}" for b, m in CASES])
def test_board_runs_model_bit_exact(board, key):
    b = all_boards()[board]
    require_board(b)
    xs = inputs_for(key, SAMPLES[key])
    got = backends.run(model(key), xs, backend="qemu", board=b, timeout=300)
    assert_same_bytes(f"{key} on {board}", expected(key, xs), got)
