"""arg_min_max on emulated Cortex-M cores: the C kernel built for the Cortex-M4 and the Cortex-M55 ==
the Python kernel, byte for byte, on random cases (int32 and int64 indices)."""
import numpy as np
import pytest

from harness import check_cases
from test_arg_min_max import random_case

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_arg_min_max_random_cases_on_board(board):
    rng = np.random.default_rng(3611)
    cases = [random_case(rng) for _ in range(220)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 220
