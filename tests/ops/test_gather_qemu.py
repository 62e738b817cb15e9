"""gather on emulated Cortex-M cores: the C kernel built for the Cortex-M4 (DSP extension) and the
Cortex-M55 (Helium) == the Python kernel, byte for byte, on random cases (tests/ops/test_gather.py
covers the portable C build on the host)."""
import numpy as np
import pytest

from harness import check_cases
from test_gather import random_case, runtime_case

BOARDS = ["mps2-an386", "mps3-an547"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_gather_random_cases_on_board(board):
    rng = np.random.default_rng(8089)
    cases = [random_case(rng) for _ in range(200)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 200


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_gather_runtime_indices_on_board(board):
    rng = np.random.default_rng(8093)
    stats = check_cases([runtime_case(rng) for _ in range(200)], samples=3, board=board)
    assert stats["cases"] == 200
