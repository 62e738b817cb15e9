"""div on emulated Cortex-M cores: the C kernel built for the Cortex-M4 and the Cortex-M55 == the
Python kernel, byte for byte, on random cases."""
import numpy as np
import pytest

from binary_cases import fixed_cases, random_case
from harness import check_cases

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_div_random_cases_on_board(board):
    rng = np.random.default_rng(4111)
    cases = fixed_cases(rng, "div") + [random_case(rng, "div") for _ in range(165)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] >= 200
