"""depthwise_conv2d on emulated Cortex-M cores: the DSP (Cortex-M4) and Helium (Cortex-M55) builds of the C
kernel == the Python kernel, byte for byte, on random cases (tests/ops/test_depthwise_conv2d.py covers the
portable C build on the host)."""
import numpy as np
import pytest

from conv_cases import THREADED_BOARDS, any_left_shift, check_threaded_cases, check_wide_cases, random_case
from harness import check_cases

BOARDS = ["mps2-an386", "mps3-an547", "rpi4", "rpi5", "rpi3-32"]


@pytest.mark.qemu
@pytest.mark.parametrize("board", BOARDS)
def test_depthwise_conv2d_random_cases_on_board(board):
    rng = np.random.default_rng(7002)
    cases = [random_case(rng, depthwise=True) for _ in range(72)]
    stats = check_cases(cases, samples=3, board=board)
    assert stats["cases"] == 72
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.qemu
@pytest.mark.parametrize("board,opt", [("mps2-an386", "-O2"), ("mps2-an386", "-Os"), ("mps3-an547", "-O2")])
def test_depthwise_conv2d_dsp_fast_path_cases_on_board(board, opt):
    """The shapes the DSP build's hand-scheduled paths take (conv_cases.random_case dsp=True), which
    the general random cases reach only now and then; at -Os (`--optimize size`) the DSP build's
    size paths."""
    rng = np.random.default_rng(7012)
    cases = [random_case(rng, depthwise=True, dsp=True) for _ in range(40)]
    stats = check_cases(cases, samples=3, board=board, opt=opt)
    assert stats["cases"] == 40
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def dw3_cases(rng: np.random.Generator) -> list:
    """3x3 cases of depth multiplier 1: 1..70 channels (whole groups of sixteen, a partial last group,
    eights, and both), strides 1 and 2, dilation, windows cut by the padding, with and without a
    bias, every clamp, left shifts among the channels; weights in [-127, 127] (a -128 weight keeps a
    layer off the NEON build's folded-bias path)."""
    cases = [random_case(rng, depthwise=True, dsp=True, channels=int(rng.integers(1, 71))) for _ in range(36)]
    while len(cases) < 60:  # the general generator's 3x3 cases of depth multiplier 1
        c = random_case(rng, depthwise=True, small=bool(rng.random() < 0.3))
        if c.inputs[1].shape[1:3] == (3, 3) and c.attrs["depth_multiplier"] == 1:
            cases.append(c)
    cases += [random_case(rng, depthwise=True, dsp=True, channels=ch, hw=hw)
              for ch, hw in [(16, (1, 1)), (32, (1, 2)), (20, (2, 1)), (5, (2, 2)), (48, (3, 1)), (24, (2, 3))]]
    assert any_left_shift(cases)
    assert any(c.inputs[2] is None for c in cases)
    assert any(c.attrs["dilation"] != (1, 1) for c in cases)
    assert any(c.inputs[0].shape[3] >= 16 and c.inputs[0].shape[3] % 16 for c in cases)
    return cases


@pytest.mark.qemu
@pytest.mark.parametrize("opt", ["-O2", "-Os"])
def test_depthwise_conv2d_helium_asm_cases_on_m55(opt):
    """The Helium build's 3x3 kernel (depthwise_conv2d.c dw3_mve: sixteen channels per group in
    one asm, the biases folded, taps in the padding read from a zero-point row) on dw3_cases, at
    -O2 and -Os."""
    cases = dw3_cases(np.random.default_rng(7014))
    stats = check_cases(cases, samples=3, board="mps3-an547", opt=opt)
    assert stats["cases"] == len(cases)
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.qemu
@pytest.mark.parametrize("board,cflags", [("rpi4", ()), ("rpi4", ("-DDW_ZP_ROW=16",)), ("rpi3-32", ())])
def test_depthwise_conv2d_folded_bias_cases_on_neon(board, cflags):
    """The NEON build's 3x3 kernel (edgenn_neon.h enn_dw3_pairs_neon: raw int8 products, two taps
    summed in int16, biases folded, a zero-point row for the padding; sixteen, eight and single
    channels) on dw3_cases, on AArch64 and 32-bit NEON. On AArch64 pixels in pairs along runs
    (enn_dw3_two_neon), rows in the padding read from a whole zero-point row; with that row made too
    short for the inputs (DW_ZP_ROW=16), such rows take one pixel at a time."""
    cases = dw3_cases(np.random.default_rng(7015))
    stats = check_cases(cases, samples=3, board=board, cflags=cflags)
    assert stats["cases"] == len(cases)
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


@pytest.mark.qemu
def test_depthwise_conv2d_dsp_cut_windows_on_m4():
    """Inputs one or two pixels high or wide: every window of the 3x3 filters cut by the padding to
    one or two rows and columns, each cut the DSP build's asm (dw_part3_dsp1/2/3) takes."""
    rng = np.random.default_rng(7013)
    shapes = [(1, 1), (1, 2), (2, 1), (1, 5), (5, 1), (2, 2), (2, 6), (7, 2), (3, 1), (1, 3)]
    cases = [random_case(rng, depthwise=True, dsp=True, hw=hw) for hw in shapes for _ in range(2)]
    stats = check_cases(cases, samples=3, board="mps2-an386")
    assert stats["cases"] == len(cases)


@pytest.mark.qemu
def test_depthwise_conv2d_dsp_many_channels_on_m4():
    """More channels than the DSP build's window asm extends at once (DW_EXT_CH = 128) beside
    layers at and just over it, full and cut windows, on the M4."""
    rng = np.random.default_rng(7014)
    shapes = [(5, 6), (3, 3), (1, 4), (6, 1)]
    cases = [random_case(rng, depthwise=True, dsp=True, hw=hw, channels=ch)
             for hw, ch in zip(shapes * 2, [132, 256, 260, 200, 128, 136, 388, 144])]
    stats = check_cases(cases, samples=2, board="mps2-an386")
    assert stats["cases"] == len(cases)


@pytest.mark.parametrize("board", ["rpi4", "rpi5", "rpi3-32"])
def test_depthwise_conv2d_wide_cases_on_aarch64(board):
    check_wide_cases(board, depthwise=True, seed=7102)


@pytest.mark.parametrize("board", ["rpi4", "rpi5", "rpi3-32"])
def test_depthwise_conv2d_byte_wide_shifts_on_aarch64(board):
    """Layers with more channels than the kernel widens shifts for once (CONV2D_SHIFT32 /
    DW_SHIFT32, here 16) requantize from the byte-wide shifts, per group of channels."""
    check_wide_cases(board, depthwise=True, seed=7104, n=30, cflags=("-DCONV2D_SHIFT32=16", "-DDW_SHIFT32=16"))


@pytest.mark.parametrize("board,flags", THREADED_BOARDS)
def test_depthwise_conv2d_on_threads(board, flags):
    """Every layer split over 3 threads (conv_cases.check_threaded_cases)."""
    check_threaded_cases(board, flags, depthwise=True, seed=7106)
