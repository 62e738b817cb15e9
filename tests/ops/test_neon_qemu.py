"""The NEON paths of conv2d, depthwise_conv2d and fully_connected (templates/kernels/edgenn_neon.h)
== the Python kernels, byte for byte, on the 64-bit Raspberry Pi cores in QEMU user mode: the
Cortex-A72 (SMULL / SADALP) and the Cortex-A76 (SDOT). Wide cases (16-70 channels, -128 among the
weights) reach the sixteen-byte steps and every tail; tests/ops/test_*_qemu.py run the op's usual
random cases on these boards too."""
import numpy as np
import pytest

from conv_cases import random_case
from harness import check_cases

BOARDS = ["rpi4", "rpi5"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_wide_convolutions_on_aarch64(board):
    rng = np.random.default_rng(7101)
    cases = [random_case(rng, depthwise=bool(i % 2), wide=(9, 71)) for i in range(120)]
    stats = check_cases(cases, samples=2, board=board)
    assert stats["cases"] == 120
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0
