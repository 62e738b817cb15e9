"""mean on emulated Cortex-M cores: the C kernel built for the Cortex-M4 (DSP extension) and the
Cortex-M55 (Helium) == the Python kernel, byte for byte, on random cases (tests/ops/test_mean.py covers the
portable C build on the host)."""
import numpy as np
import pytest

from harness import check_cases
from test_mean import random_case

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_mean_random_cases_on_board(board):
    rng = np.random.default_rng(7108)
    cases = [random_case(rng) for i in range(64)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 64


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_sum_random_cases_on_board(board):
    rng = np.random.default_rng(7109)
    cases = [random_case(rng, compute_sum=True) for i in range(210)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 210
