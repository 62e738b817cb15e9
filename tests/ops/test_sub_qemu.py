"""sub on emulated Cortex-M cores: the DSP (Cortex-M4) and Helium (Cortex-M55) builds of the C kernel
(edgenn_arith.h, shared with add) == the Python kernel, byte for byte (test_sub.py: the host build)."""
import numpy as np
import pytest

from binary_cases import fixed_cases, long_row_cases, random_case
from harness import check_cases

BOARDS = ["mps2-an386", "mps3-an547", "rpi4", "rpi5", "rpi3-32"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_sub_random_cases_on_board(board):
    rng = np.random.default_rng(7019)
    cases = fixed_cases(rng, "sub")[::3] + [random_case(rng, "sub") for _ in range(60)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] >= 60
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_sub_long_rows_on_board(board):
    """Rows of 1,024 elements and more, which the DSP build computes from tables of the inputs' first
    stage: every activation, output shift and saturation on both sides."""
    rng = np.random.default_rng(7020)
    stats = check_cases(long_row_cases(rng, "sub", 24), samples=2, board=board)
    assert stats["cases"] == 24
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0
