"""split on emulated Cortex-M cores: the C kernel built for the Cortex-M4 (DSP extension) and the
Cortex-M55 (Helium) == the Python kernel, byte for byte, on random cases (tests/ops/test_split.py
covers the portable C build on the host)."""
import numpy as np
import pytest

from harness import check_cases
from test_split import random_case

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_split_random_cases_on_board(board):
    rng = np.random.default_rng(4343)
    cases = [random_case(rng) for _ in range(200)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 200
