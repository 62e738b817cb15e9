"""conv2d on emulated Cortex-M cores: the DSP (Cortex-M4) and Helium (Cortex-M55) builds of the C
kernel == the Python kernel, byte for byte, on random cases (tests/ops/test_conv2d.py covers the
portable C build on the host)."""
import numpy as np
import pytest

from conv_cases import (THREADED_BOARDS, any_left_shift, check_threaded_cases, check_wide_cases, pairs_asm_case,
                        random_case)
from harness import check_cases

BOARDS = ["mps2-an386", "mps3-an547", "rpi4", "rpi5", "rpi3-32"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_conv2d_random_cases_on_board(board):
    rng = np.random.default_rng(7001)
    cases = [random_case(rng, depthwise=False) for _ in range(72)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 72
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.qemu
@pytest.mark.parametrize("board,opt", [("mps2-an386", "-O2"), ("mps2-an386", "-Os"), ("mps3-an547", "-O2")])
def test_conv2d_dsp_fast_path_cases_on_board(board, opt):
    """The shapes the DSP build's hand-scheduled paths take (conv_cases.random_case dsp=True), which
    the general random cases reach only now and then; at -Os (`--optimize size`) the DSP build's
    size paths."""
    rng = np.random.default_rng(7002)
    cases = [random_case(rng, depthwise=False, dsp=True) for _ in range(40)]
    stats = check_cases(cases, samples=3, board=board, opt=opt)
    assert stats["cases"] == 40
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.qemu
def test_conv2d_filter_pair_asm_cases_on_m4():
    """The filter-pair asm of the DSP build (conv2d_pairs_asm: requantization in the asm, the loop
    entered half-way when n / 4 is not a multiple of four) on the shapes it takes."""
    rng = np.random.default_rng(7003)
    cases = [pairs_asm_case(rng) for _ in range(60)]
    stats = check_cases(cases, samples=3, board="mps2-an386")
    assert stats["cases"] == 60
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.qemu
@pytest.mark.parametrize("opt", ["-O2", "-Os"])
def test_conv2d_helium_block_asm_cases_on_m55(opt):
    """The Helium build's four-filter blocks (conv2d.c conv2d_run4_mve: the sums, tail-predicated,
    and the requantization from codegen/helium.py's records in one asm; runs of pixels whose
    windows are inside the input, gathered by the asm): gathered windows and 1x1 columns of 1..80
    values (whole and partial sixteens), 4..19 output channels (the blocks, then the last ones in
    C), with and without a bias, every clamp, left shifts among the channels; and the filter-pair
    cases' dead channels and biases near the int32 limits. At -Os (`--optimize size`) too: the
    same asm."""
    rng = np.random.default_rng(7006)
    cases = [random_case(rng, depthwise=False, wide=(1, 81), channels=int(rng.integers(4, 20))) for _ in range(30)]
    # Output channels in fours: runs of pixels in one call (conv2d_run4_mve), gathering the windows
    # of whole rows itself, any stride and vertical dilation.
    cases += [random_case(rng, depthwise=False, wide=(1, 81), channels=4 * int(rng.integers(1, 6))) for _ in range(30)]
    cases += [pairs_asm_case(rng) for _ in range(30)]
    assert any_left_shift(cases)
    assert any(c.inputs[2] is None for c in cases)
    runs = [c for c in cases if c.outputs[0].shape[3] % 4 == 0 and c.attrs["groups"] == 1]
    assert any(c.inputs[1].shape[1:3] == (1, 1) and c.attrs["stride"][1] > 1 for c in runs)
    assert any(c.inputs[1].shape[1] > 1 and c.attrs["dilation"] == (2, 1) for c in runs)
    stats = check_cases(cases, samples=3, board="mps3-an547", opt=opt)
    assert stats["cases"] == len(cases)
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["rpi4", "rpi3-32"])
def test_conv2d_narrow_layers_on_neon(board):
    """Layers of 8, 16, 32 and 64 output channels over short columns (a network's first layers): the
    NEON build's narrow path (conv2d_narrow: across the output channels, eight inputs at a time and
    the rest one by one), and the pixel pairs for the longer columns among them."""
    rng = np.random.default_rng(7004)
    cases = [random_case(rng, depthwise=False, small=True, channels=co) for co in (8, 16, 32, 64) * 6]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == len(cases)
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def _gemm_cases(rng: np.random.Generator, n: int) -> list:
    """Cases enn_gemm2_neon takes (one group, output channels in eights; 1x1 columns in eights,
    gathered windows of any length, padded): 1x1 columns of 8..128 values (whole sixteens and an
    eight left over), strided and batched, windows of 3..16 channels (rows of whole sixteens read in
    place, rows of 8..16 bytes, others gathered) cut by the padding at either end of a row, -128
    among the weights half the time."""
    cases = []
    while len(cases) < n:
        co = 8 * int(rng.integers(1, 6))
        c = random_case(rng, depthwise=False, dsp=rng.random() < 0.6, channels=co,
                        wide=(8, 129) if rng.random() < 0.5 else None)
        w = c.inputs[1].data
        if w.shape[1:3] != (1, 1) or w[0].size % 8 == 0:
            cases.append(c)
    for ci in (3, 4, 16, 5, 32):
        cases.append(random_case(rng, depthwise=False, dsp=True, channels=8 * int(rng.integers(1, 4)),
                                 wide=(ci, ci + 1), hw=(int(rng.integers(3, 9)), int(rng.integers(3, 12)))))
    return cases


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["rpi4", "rpi5"])
def test_conv2d_gemm_records_on_aarch64(board):
    """The AArch64 blocks of eight filters and two pixels (edgenn_neon.h enn_gemm2_neon) with
    codegen/neon.py's records (folded biases, multipliers, left and right shifts): pointwise runs
    (pairs, an odd pixel, strides), gathered windows, -128 weights (the SMULL + SMULL2 path),
    left shifts and the int8 clamp's saturating narrows."""
    rng = np.random.default_rng(7007)
    cases = _gemm_cases(rng, 64)
    pw = [c for c in cases if c.inputs[1].shape[1:3] == (1, 1)]
    assert any(c.inputs[1].shape[3] % 16 == 8 for c in pw) and any(c.inputs[1].shape[3] % 16 == 0 for c in pw)
    assert any(c.attrs["stride"] != (1, 1) for c in pw) and any(c.inputs[0].shape[0] > 1 for c in pw)
    assert any(int(c.inputs[1].data.min()) == -128 for c in cases)
    assert any(c.inputs[1].shape[1] > 1 for c in cases)
    windows = [c.inputs[1].shape for c in cases if c.inputs[1].shape[1:3] != (1, 1)]
    assert any(s[2] * s[3] % 16 == 0 for s in windows) and any(8 <= s[2] * s[3] <= 16 for s in windows)
    assert any(s[1] * s[2] * s[3] % 8 for s in windows)
    assert any_left_shift(cases)
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == len(cases)
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.parametrize("board", ["rpi4", "rpi5", "rpi3-32"])
def test_conv2d_wide_cases_on_aarch64(board):
    check_wide_cases(board, depthwise=False, seed=7101)


@pytest.mark.parametrize("board", ["rpi4", "rpi5", "rpi3-32"])
def test_conv2d_byte_wide_shifts_on_aarch64(board):
    """Layers with more channels than the kernel widens shifts for once (CONV2D_SHIFT32 /
    DW_SHIFT32, here 16) requantize from the byte-wide shifts, per group of channels."""
    check_wide_cases(board, depthwise=False, seed=7103, n=30, cflags=("-DCONV2D_SHIFT32=16", "-DDW_SHIFT32=16"))


@pytest.mark.parametrize("board,flags", THREADED_BOARDS)
def test_conv2d_on_threads(board, flags):
    """Every layer split over 3 threads (conv_cases.check_threaded_cases)."""
    check_threaded_cases(board, flags, depthwise=False, seed=7105)
