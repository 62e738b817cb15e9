"""The fit check is the linker's truth, on every bare-metal board of the catalogue.

For each board, synthetic models are sized from the board's own memory so that the test firmware
needs just less and just more than the board has (within MARGIN bytes of the limit):

- RAM: an arena filled by a pad (1x1x1x4 -> 1xHx1x4), reduced again by a max pool over the height;
- flash: a fully connected layer (U x K int8 weights, U = K) for the bulk, plus an add of an int8
  constant of N bytes that reaches the limit to within its 16-byte alignment.

For each model the fit check (edgenn/fit.py) is asked, then the project it measured is linked again
with the board's own linker script (test_app/link.ld, and test_app/link_qemu.ld for a product
emulated by another machine): "fits" must hold exactly when both link. The models that fit run in
QEMU where the board is emulated and give runtime_py's bytes. Linux boards and the host have no
limit to check (tests/test_boards.py).
"""
from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest

from boards_common import assert_same_bytes, flash_model, ram_model, random_inputs, require_board
from edgenn.boards import all_boards
from edgenn.emulation import backends
from edgenn.fit import fit_report
from edgenn.format.enn import EnnModel
from edgenn.runtime_py.interpreter import Interpreter

#: How near the limit the two models of a board must come (bytes, either side).
MARGIN = 64
BAREMETAL = sorted(n for n, b in all_boards().items() if b.kind == "baremetal")


def near_limit(report, size_for, limit: int, key: str, first: int, slope: float):
    """Models just under and just over ``limit``: ``size_for(s)`` is the model of size parameter s,
    whose ``key`` figure grows by about ``slope`` bytes per unit of s, in steps of up to 16 bytes
    (alignment); ``first`` is a prediction of a size just under the limit. Re-aimed with the
    measured figure until a model lands at most 48 bytes under the limit; the one over it is
    derived from that one's figure (at most 32 bytes over)."""
    s = first
    r = report(size_for(s))
    for _ in range(3):
        if limit - (MARGIN - 16) <= r[key] <= limit:
            break
        s += int((limit - 24 - r[key]) / slope)
        r = report(size_for(s))
    assert r[key] <= limit, (r[key], limit)
    s2 = s + math.ceil((limit - r[key] + 16) / slope)
    r2 = report(size_for(s2))
    while r2[key] <= limit:  # not expected: one more step of 16 bytes
        s2 += math.ceil(16 / slope)
        r2 = report(size_for(s2))
    return (s, r), (s2, r2)


def relink(directory: Path, board) -> dict[str, bool]:
    """Link the measured project's objects again with the board's own linker scripts: which link."""
    res = {}
    for target in ["firmware.elf"] + ([board.emu_firmware] if board.separate_emu_firmware else []):
        (directory / target).unlink(missing_ok=True)
        r = subprocess.run(["make", "-s", "-C", str(directory), target], capture_output=True, text=True, timeout=600)
        overflow = "overflowed" in r.stderr
        assert r.returncode == 0 or overflow, f"{target}: {r.stderr[-2000:]}"
        res[target] = r.returncode == 0
    return res


@pytest.mark.qemu
@pytest.mark.parametrize("board", BAREMETAL)
def test_fits_exactly_when_the_test_firmware_links(board, tmp_path):
    b = all_boards()[board]
    require_board(b)
    counter = iter(range(1000))

    def report(m: EnnModel) -> dict:
        d = tmp_path / f"p{next(counter)}"
        r = fit_report(m, b, directory=d)
        assert r["measured"], r["method"]
        r["model"], r["dir"] = m, d
        return r

    # RAM: a small model gives the fixed part (each row is 4 bytes of arena), then the two near the limit
    r0 = report(ram_model(64))
    first = 64 + (b.ram_bytes - 32 - r0["ram_used"]) // 4
    ram = near_limit(report, ram_model, b.ram_bytes, "ram_used", first, 4.0)
    # flash: the fixed part and the bytes per unit of U (bias, per-channel parameters) from two
    # small models; U = K from the square root of what is left, N for the rest. U odd throughout:
    # the speed build would store a dense layer with rows in fours a second time (pre-extended
    # filters, codegen/dsp_filters.py) where they fit, so that the small models would not measure
    # the bytes per U of the large one.
    f0, f1 = report(flash_model(33, 64)), report(flash_model(289, 64))
    per_u = ((f1["flash_used"] - 289 * 289) - (f0["flash_used"] - 33 * 33)) / 256
    fixed = f0["flash_used"] - 33 * 33 - per_u * 33 - 64
    u0 = math.isqrt(max(0, b.flash_bytes - int(fixed)))
    u = math.isqrt(max(0, int(b.flash_bytes - fixed - per_u * u0) - 512))
    u -= 1 - (u & 1)
    n_first = int(b.flash_bytes - 32 - fixed - per_u * u - u * u)  # 256 to 256 + 4u bytes
    assert n_first > 0, (b.flash_bytes, fixed, per_u, u)
    flash = near_limit(report, lambda n: flash_model(u, n), b.flash_bytes, "flash_used", n_first, 1.0)

    for what, (under, over), limit, key in (("RAM", ram, b.ram_bytes, "ram_used"),
                                            ("flash", flash, b.flash_bytes, "flash_used")):
        (_, ru), (_, ro) = under, over
        assert limit - MARGIN <= ru[key] <= limit < ro[key] <= limit + MARGIN, \
            (what, limit, ru[key], ro[key])
        assert ru["fits"] and not ro["fits"], (what, ru[key], ro[key], limit)
        for r in (ru, ro):
            links = relink(r["dir"], b)
            assert all(v == r["fits"] for v in links.values()), (what, r[key], limit, r["fits"], links)
        if b.emulated:
            m = ru["model"]
            xs = random_inputs(m, 2)
            fw = ru["dir"] / b.emu_firmware
            got = backends.run_built(backends.BuildResult(ru["dir"], fw, b), m, xs, timeout=300)
            assert_same_bytes(f"{what}-filling model on {board}", Interpreter(m).invoke(*xs), got)
