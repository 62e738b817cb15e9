"""batch_matmul on emulated Cortex-M cores: the C kernel built for the Cortex-M4 (DSP extension) and the
Cortex-M55 (Helium) == the Python kernel, byte for byte (test_batch_matmul.py covers the host build)."""
import numpy as np
import pytest

from harness import check_cases
from test_batch_matmul import random_case

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_batch_matmul_random_cases_on_board(board):
    rng = np.random.default_rng(7036)
    stats = check_cases([random_case(rng) for _ in range(200)], samples=3, board=board)
    assert stats["cases"] == 200
