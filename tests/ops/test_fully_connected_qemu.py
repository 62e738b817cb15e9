"""fully_connected on emulated Cortex-M cores: the DSP (Cortex-M4) and Helium (Cortex-M55) builds of
the C kernel == the Python kernel, byte for byte, on random cases (tests/ops/test_fully_connected.py
covers the portable C build on the host)."""
import numpy as np
import pytest

from harness import check_cases
from test_fully_connected import random_case

BOARDS = ["mps2-an386", "mps3-an547", "rpi4", "rpi5", "rpi3-32"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_fully_connected_random_cases_on_board(board):
    rng = np.random.default_rng(7003)
    cases = [random_case(rng) for _ in range(72)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 72
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0
