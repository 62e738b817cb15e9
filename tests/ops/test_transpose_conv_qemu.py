"""transpose_conv on emulated Cortex-M cores: the DSP (Cortex-M4) and Helium (Cortex-M55) builds of
the C kernel == the Python kernel, byte for byte (test_transpose_conv.py covers the host build)."""
import numpy as np
import pytest

from conv_cases import random_transpose_case
from harness import check_cases

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_transpose_conv_random_cases_on_board(board):
    rng = np.random.default_rng(7002)
    stats = check_cases([random_transpose_case(rng) for _ in range(72)], samples=3, board=board)
    assert stats["cases"] == 72
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0
