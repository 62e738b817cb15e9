"""lrn on emulated Cortex-M cores: the C kernel built for the Cortex-M4 and the Cortex-M55 == the
Python kernel, byte for byte, on random cases (in two firmware images: 210 layers' factor tables,
up to 4 KB each, do not fit the M55's 512 KB of code memory at once)."""
import numpy as np
import pytest

from harness import check_cases
from test_lrn import random_case

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_lrn_random_cases_on_board(board):
    rng = np.random.default_rng(4011)
    cases = [random_case(rng) for _ in range(210)]
    done = sum(check_cases(cases[k:k + 105], samples=3, board=board)["cases"] for k in (0, 105))
    assert done == 210
