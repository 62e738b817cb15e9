"""Pre-extended conv2d filters for the Cortex-M DSP build (codegen/dsp_filters.py): their layout,
which boards and layers get them, the flash budget, and the generated code using them (bit-exact
on the emulated M4 in tests/ops/test_conv2d_qemu.py and tests/test_boards_qemu.py)."""
from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from boards_common import mlperf_model
from edgenn.boards import get_board, optimized_for
from edgenn.codegen.dsp_filters import (fc_length, fc_words, pair_filters, pair_length, pair_stream,
                                        pair_words)
from edgenn.codegen.generate import render_library


def _sxtb16_pairs(v: np.ndarray) -> tuple[int, int]:
    """What SXTB16 and SXTB16 ROR 8 make of four int8 values packed in a word: (v0, v2), (v1, v3)."""
    h = [int(x) & 0xFFFF for x in v]
    return h[0] | h[2] << 16, h[1] | h[3] << 16


def test_pair_words_are_the_extended_words_of_each_filter_pair_zero_padded():
    rng = np.random.default_rng(3)
    filt = rng.integers(-128, 128, size=(6, 3, 3, 3)).astype(np.int8)  # 27 values per filter
    words = pair_words(filt, 32)
    assert words.dtype == np.uint32 and words.shape == (3, 32)
    words = words.reshape(-1)
    flat = np.zeros((6, 32), np.int8)
    flat[:, :27] = filt.reshape(6, -1)
    k = 0
    for p in range(3):
        for g in range(8):
            for f in (2 * p, 2 * p + 1):
                even, odd = _sxtb16_pairs(flat[f, 4 * g:4 * g + 4])
                assert (int(words[k]), int(words[k + 1])) == (even, odd), (p, g, f)
                k += 2
    assert k == words.size


def test_pair_stream_puts_each_pairs_biases_before_and_requantization_after_its_weights():
    rng = np.random.default_rng(4)
    filt = rng.integers(-128, 128, size=(4, 1, 1, 8)).astype(np.int8)
    bias = np.array([-5, 7, -(1 << 31), (1 << 31) - 1], np.int32)
    mult = np.array([1 << 30, (1 << 31) - 1, 0, 1518500250], np.int64)
    shift = np.array([-1, -31, 5, -7], np.int64)
    stream = pair_stream(filt, 8, bias, mult, shift).reshape(2, 2 + 8 + 4)
    weights = pair_words(filt, 8)
    for p in range(2):
        a, b = 2 * p, 2 * p + 1
        assert list(stream[p, :2].view(np.int32)) == [bias[a], bias[b]]
        assert np.array_equal(stream[p, 2:10], weights[p])
        assert list(stream[p, 10:12]) == [(int(mult[a]) << 1) & 0xFFFFFFFF, (int(mult[b]) << 1) & 0xFFFFFFFF]
    # enn_rq8's shifts: clamp(-shift, 1, 31) - 1, and 31 for a zero multiplier.
    assert list(stream[0, 12:]) == [0, 30] and list(stream[1, 12:]) == [31, 6]


def test_fc_words_interleave_four_units_per_step_of_four_values():
    rng = np.random.default_rng(5)
    filt = rng.integers(-128, 128, size=(10, 12)).astype(np.int8)  # 10 units: the first 8 pre-extended
    words = fc_words(filt, 8)
    assert words.dtype == np.uint32 and words.size == 8 * 12 // 2
    k = 0
    for g in range(2):
        for step in range(3):
            for u in range(4 * g, 4 * g + 4):
                assert (int(words[k]), int(words[k + 1])) == _sxtb16_pairs(filt[u, 4 * step:4 * step + 4])
                k += 2
    assert k == words.size


def test_fully_connected_layers_qualify_only_with_symmetric_weights_in_fours():
    ad = mlperf_model("ad")
    i = next(i for i, op in enumerate(ad.ops) if op.type == "fully_connected")
    assert fc_length(ad, ad.ops[i]) == int(ad.tensors[ad.ops[i].inputs[1]].shape[0]) & ~3
    asym = copy.deepcopy(ad)
    asym.ops[i].options["filter_offset"] = 3
    assert fc_length(asym, asym.ops[i]) is None
    kws = mlperf_model("kws")
    assert all(fc_length(kws, op) is None for op in kws.ops if op.type != "fully_connected")


def test_only_dsp_microcontrollers_built_for_speed_get_them():
    kws = mlperf_model("kws")
    m4 = get_board("stm32l4r5zi")
    got = pair_filters(kws, m4)
    dense = [i for i, op in enumerate(kws.ops) if op.type in ("conv2d", "fully_connected")]
    assert sorted(got) == dense  # every conv2d and fully_connected of KWS qualifies
    for name in ("mps2-an386", "mps2-an500", "mps2-an505"):  # M4, M7, M33
        assert pair_filters(kws, get_board(name))
    assert pair_filters(kws, optimized_for(m4, "size")) == {}
    for name in ("mps3-an547", "rpi4", "rpi3-32", "host", "mps2-an385"):  # Helium, NEON, host, M3
        assert pair_filters(kws, get_board(name)) == {}


def test_layers_the_kernel_would_not_run_through_the_pair_loop_get_none():
    kws = mlperf_model("kws")
    i = next(i for i, op in enumerate(kws.ops) if op.type == "conv2d")
    assert pair_length(kws, kws.ops[i]) is not None
    clamped = copy.deepcopy(kws)
    clamped.ops[i].options["act_min"] = 0  # a ReLU clamp: not the int8 range
    assert pair_length(clamped, clamped.ops[i]) is None
    shifted = copy.deepcopy(kws)
    shifted.ops[i].options["out_shift"] = np.ones_like(np.asarray(shifted.ops[i].options["out_shift"]))
    assert pair_length(shifted, shifted.ops[i]) is None  # a left shift: not enn_rq8
    unbiased = copy.deepcopy(kws)
    unbiased.ops[i].inputs = unbiased.ops[i].inputs[:2] + [-1]
    assert pair_length(unbiased, unbiased.ops[i]) is None
    dw = next(op for op in kws.ops if op.type == "depthwise_conv2d")
    assert pair_length(kws, dw) is None


def test_flash_budget_takes_the_layers_with_most_pixels_first():
    vww = mlperf_model("vww")
    big = get_board("stm32l4r5zi")
    weights = sum(t.stored_nbytes for t in vww.tensors if t.is_const)
    everything = pair_filters(vww, big)
    cost = {i: w.nbytes for i, w in everything.items()}  # 2 B per value, 12 per filter
    assert weights + sum(cost.values()) <= big.flash_bytes // 2
    # A board with room for only part of them: within half its flash, early (large) layers first.
    small = replace(big, flash_bytes=2 * (weights + sum(cost.values()) // 3))
    part = pair_filters(vww, small)
    assert part and set(part) < set(everything)
    assert weights + sum(w.nbytes for w in part.values()) <= small.flash_bytes // 2
    first = min(everything)
    assert first in part  # the first layer has the most output pixels
    # No room at all: none, and a model whose weights alone exceed half the flash gets none either.
    assert pair_filters(vww, replace(big, flash_bytes=2 * weights)) == {}


def test_generated_library_carries_and_passes_them(tmp_path):
    kws = mlperf_model("kws")
    m4 = get_board("mps2-an386")
    name = kws.name
    render_library(kws, tmp_path / "fast", m4)
    src = (tmp_path / "fast" / "src" / f"{name}.c").read_text()
    consts = (tmp_path / "fast" / "src" / f"{name}_weights.c").read_text()
    i = min(pair_filters(kws, m4))
    # Constant data in weights.c, declared in weights.h, and covered by <name>_verify()'s CRC.
    assert f"\nconst uint32_t {name}_l{i}_wx[" in consts
    assert f"crc32_update(crc, (const volatile uint8_t *){name}_l{i}_wx, " in consts
    assert f"extern const uint32_t {name}_l{i}_wx[" in (tmp_path / "fast" / "src" / f"{name}_weights.h").read_text()
    assert f".wx = {name}_l{i}_wx," in src
    render_library(kws, tmp_path / "small", optimized_for(m4, "size"))
    small = (tmp_path / "small" / "src" / f"{name}.c").read_text()
    small_consts = (tmp_path / "small" / "src" / f"{name}_weights.c").read_text()
    assert "_wx[" not in small_consts and ".wx = 0," in small
