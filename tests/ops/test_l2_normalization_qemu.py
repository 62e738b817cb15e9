"""l2_normalization on emulated Cortex-M cores: the C kernel built for the Cortex-M4 and the
Cortex-M55 == the Python kernel, byte for byte, on random cases."""
import numpy as np
import pytest

from harness import check_cases
from test_l2_normalization import random_case

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_l2_normalization_random_cases_on_board(board):
    rng = np.random.default_rng(3811)
    stats = check_cases([random_case(rng) for _ in range(210)], samples=3, board=board)
    assert stats["cases"] == 210
