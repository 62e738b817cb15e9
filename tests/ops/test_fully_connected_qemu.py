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


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["rpi4", "rpi5"])
def test_fully_connected_packed_filters_on_aarch64(board):
    """Layers of 8..48 units (whole eights) over rows of 8..264 values (whole eights: sixteens with
    and without an eight left over, and a single eight): the AArch64 build's packed filters and
    records (codegen/neon.py; edgenn_neon.h enn_fc8_neon, its steps in asm), -128 weights in half
    of them, batches of rows, per-tensor and per-channel scales, left shifts."""
    from conv_cases import any_left_shift

    rng = np.random.default_rng(7014)
    cases = []
    for k in range(40):
        c = random_case(rng)
        x, w, y = c.inputs[0], c.inputs[1], c.outputs[0]
        units = 8 * int(rng.integers(1, 7))
        depth = 8 * int(rng.choice([1, 2, 3, 5, 8, 17, 33]))
        data = rng.integers(-127, 128, size=(units, depth)).astype(np.int8)
        if k % 2:
            data[rng.random(data.shape) < 0.05] = -128
        scale = np.resize(np.atleast_1d(w.scale), units) if np.size(w.scale) > 1 else w.scale
        if k % 5 == 0:
            scale = np.asarray(scale, np.float32) * 300  # a multiplier above one: left shifts
        bias = c.inputs[2]
        if bias is not None:
            bias = type(bias)((units,), np.resize(np.atleast_1d(bias.scale), units), 0,
                              rng.integers(-20000, 20000, size=units).astype(np.int32), "int32")
        cases.append(type(c)(c.op_type, [type(x)((x.shape[0], depth), x.scale, x.zero_point),
                                         type(w)((units, depth), scale, 0, data, axis=0), bias],
                             [type(y)((y.shape[0], units), y.scale, y.zero_point)], c.attrs))
    assert any((c.inputs[1].data == -128).any() for c in cases)
    assert any(c.inputs[0].shape[0] > 1 for c in cases)
    assert {c.inputs[1].shape[1] % 16 for c in cases} == {0, 8}
    assert any_left_shift(cases)
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == len(cases)
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0
