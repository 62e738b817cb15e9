"""fully_connected on emulated Cortex-M cores: the DSP (Cortex-M4) and Helium (Cortex-M55) builds of
the C kernel == the Python kernel, byte for byte, on random cases (tests/ops/test_fully_connected.py
covers the portable C build on the host)."""
import numpy as np
import pytest

from harness import check_cases
from test_fully_connected import random_case

BOARDS = ["mps2-an386", "mps3-an547", "rpi4", "rpi5", "rpi3-32"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_fully_connected_random_cases_on_board(board):
    rng = np.random.default_rng(7003)
    cases = [random_case(rng) for _ in range(72)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 72
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["rpi4", "rpi5"])
def test_fully_connected_eight_units_on_aarch64(board):
    """Layers of 8..40 units over 1..300 values, some filters with -128 weights: the AArch64 build's
    eight-filter blocks (edgenn_neon.h enn_dot8_neon; SMULL + SMLAL2 where no weight is -128, the
    widening pair otherwise, SDOT on the A76), then the last four and single units."""
    rng = np.random.default_rng(7013)
    cases = []
    for k in range(40):
        c = random_case(rng)
        w = c.inputs[1]
        units = int(rng.integers(8, 41))
        data = rng.integers(-127, 128, size=(units, w.shape[1])).astype(np.int8)
        if k % 2:
            data[rng.random(data.shape) < 0.05] = -128
        scale = np.resize(np.atleast_1d(w.scale), units) if np.size(w.scale) > 1 else w.scale
        bias = c.inputs[2]
        if bias is not None:
            bias = type(bias)((units,), np.resize(np.atleast_1d(bias.scale), units), 0,
                              rng.integers(-20000, 20000, size=units).astype(np.int32), "int32")
        y = c.outputs[0]
        cases.append(type(c)(c.op_type, [c.inputs[0], type(w)((units, w.shape[1]), scale, 0, data, axis=0), bias],
                             [type(y)((y.shape[0], units), y.scale, y.zero_point)], c.attrs))
    assert any((c.inputs[1].data == -128).any() for c in cases)
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == len(cases)
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0
