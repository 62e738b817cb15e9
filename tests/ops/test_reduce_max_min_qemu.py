"""reduce_max_min on emulated Cortex-M cores: the C kernel built for the Cortex-M4 and the Cortex-M55
== the Python kernel, byte for byte, on random cases."""
import numpy as np
import pytest

from harness import check_cases
from test_reduce_max_min import random_case

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_reduce_max_min_random_cases_on_board(board):
    rng = np.random.default_rng(3711)
    cases = [random_case(rng) for _ in range(200)] + [random_case(rng, is_bool=True) for _ in range(10)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 210
