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

import numpy as np
import pytest

from boards_common import assert_same_bytes, random_inputs, require_board
from edgenn.boards import all_boards
from edgenn.converter.graph import Graph, IOInfo
from edgenn.converter.lower import to_enn
from edgenn.emulation import backends
from edgenn.fit import fit_report
from edgenn.format.enn import EnnModel, from_bytes, to_bytes
from edgenn.runtime_py.interpreter import Interpreter
from harness import T

#: How near the limit the two models of a board must come (bytes, either side).
MARGIN = 64
BAREMETAL = sorted(n for n, b in all_boards().items() if b.kind == "baremetal")


def graph_model(name: str, tensors: dict[str, T], ops: list[tuple[str, list[str], list[str], dict]],
                inputs: list[str], outputs: list[str]) -> EnnModel:
    """A quantized graph lowered as the converter lowers it, round-tripped through bytes."""
    g = Graph()
    for tn, t in tensors.items():
        g.add_tensor(tn, t.shape, t.dtype, t.data, t.qparams())
    g.inputs = [IOInfo(n, n, tensors[n].shape) for n in inputs]
    g.outputs = [IOInfo(n, n, tensors[n].shape) for n in outputs]
    for k, (op, ins, outs, attrs) in enumerate(ops):
        g.add_op(op, f"{op}{k}", ins, outs, **attrs)
    return from_bytes(to_bytes(to_enn(g, name, {"tool_version": "test", "source_format": "test"})))


def ram_model(h: int) -> EnnModel:
    """RAM grows by 4 bytes per row h (the padded activation); flash stays small."""
    tensors = {"x": T((1, 1, 1, 4), 0.05, 3), "padded": T((1, h, 1, 4), 0.05, 3), "y": T((1, 1, 1, 4), 0.05, 3)}
    ops = [("pad", ["x"], ["padded"], {"pads": [(0, 0), (h // 2, h - 1 - h // 2), (0, 0), (0, 0)]}),
           ("max_pool2d", ["padded"], ["y"], {"filter": (h, 1), "stride": (1, 1), "pads": (0, 0, 0, 0),
                                              "act": (None, None)})]
    return graph_model("ramfill", tensors, ops, ["x"], ["y"])


def flash_model(u: int, n: int) -> EnnModel:
    """Flash grows by u * u (the weights) and by n (an add's constant); RAM stays small."""
    rng = np.random.default_rng(u * 7919 + n)
    w = rng.integers(-127, 128, size=(u, u)).astype(np.int8)
    ws = np.full(u, 0.004, np.float32)
    tensors = {
        "x": T((1, u), 0.02, 1), "w": T((u, u), ws, 0, w, axis=0),
        "b": T((u,), 0.02 * ws, 0, rng.integers(-5000, 5000, size=u).astype(np.int32), "int32"),
        "y": T((1, u), 0.02 * 0.004 * math.sqrt(u) * 40, -2),
        "x2": T((1, n), 0.05, 0), "c": T((n,), 0.05, 0, rng.integers(-128, 128, size=n).astype(np.int8)),
        "y2": T((1, n), 0.1, 0),
    }
    ops = [("fully_connected", ["x", "w", "b"], ["y"], {"act": (None, None)}),
           ("add", ["x2", "c"], ["y2"], {"act": (None, None)})]
    return graph_model("flashfill", tensors, ops, ["x", "x2"], ["y", "y2"])


def near_limit(report, size_for, limit: int, key: str, first: int, slope: float):
    """Models just under and just over ``limit``: ``size_for(s)`` is the model of size parameter s,
    whose ``key`` figure grows by about ``slope`` bytes per unit of s; ``first`` is a prediction of
    a size just under the limit. Re-aimed with the measured figure until one model lands within
    MARGIN / 2 of the limit; the other is derived from it."""
    s = first
    r = report(size_for(s))
    for _ in range(3):
        if abs(r[key] - limit) <= MARGIN // 2 or (r[key] <= limit and limit - r[key] <= MARGIN // 2):
            break
        s += int((limit - 24 - r[key]) / slope)
        r = report(size_for(s))
    # the other side: the figures move in steps of up to 16 bytes (alignment), so step on until past the limit
    step = math.ceil(16 / slope)
    if r[key] <= limit:
        s2 = s + math.ceil((limit - r[key] + 1) / slope)
        r2 = report(size_for(s2))
        while r2[key] <= limit:
            s2 += step
            r2 = report(size_for(s2))
        return (s, r), (s2, r2)
    s2 = s - math.ceil((r[key] - limit) / slope)
    r2 = report(size_for(s2))
    while r2[key] > limit:
        s2 -= step
        r2 = report(size_for(s2))
    return (s2, r2), (s, r)


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

    # RAM: two small models give the fixed part and the bytes per row, then the two near the limit
    r0, r1 = report(ram_model(64)), report(ram_model(64 + 256))
    slope = (r1["ram_used"] - r0["ram_used"]) / 256
    assert 4 <= slope <= 4.2, slope
    first = 64 + int((b.ram_bytes - 32 - r0["ram_used"]) / slope)
    ram = near_limit(report, ram_model, b.ram_bytes, "ram_used", first, slope)
    # flash: the fixed part and the bytes per unit of U (bias, per-channel parameters) from two
    # small models; U = K from the square root of what is left, N for the rest
    f0, f1 = report(flash_model(32, 64)), report(flash_model(288, 64))
    per_u = ((f1["flash_used"] - 288 * 288) - (f0["flash_used"] - 32 * 32)) / 256
    fixed = f0["flash_used"] - 32 * 32 - per_u * 32 - 64
    u0 = math.isqrt(max(0, b.flash_bytes - int(fixed)))
    u = math.isqrt(max(0, int(b.flash_bytes - fixed - per_u * u0) - 512))
    n_first = int(b.flash_bytes - 32 - fixed - per_u * u - u * u)  # 256 to 256 + 2u bytes
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
