"""Instruction counts from edgenn's QEMU plugin: per inference and per layer, identical run to run,
on qemu-system-arm (Cortex-M), qemu-aarch64 and qemu-arm (Raspberry Pi)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from boards_common import DIGITS, assert_same_bytes, digits_inputs, digits_model, mlperf_model, random_inputs, \
    require, require_board
from edgenn.boards import get_board
from edgenn.emulation import backends
from edgenn.emulation import profile as prof
from edgenn.errors import EdgennError, ToolchainError


def edgenn(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgenn", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def require_plugin() -> None:
    require("gcc")
    try:
        prof.plugin_path()
    except ToolchainError as e:
        import os

        if os.environ.get("CI"):
            pytest.fail(str(e))
        pytest.skip(str(e))


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547", "rp2040", "rpi4", "rpi2"])
def test_counts_are_identical_run_to_run(board, tmp_path):
    b = get_board(board)
    require_board(b)
    require_plugin()
    m = mlperf_model("kws")
    xs = random_inputs(m, 3)
    build = backends.build(m, b, tmp_path / "p", cflags="-DKWS_REF_MODEL_PROFILE")
    data = backends.pack_inputs(m, xs)
    res1, rows1 = prof.count(build, data, 3, layers=True, timeout=120)
    res2, rows2 = prof.count(build, data, 3, layers=True, timeout=120)
    assert rows1 == rows2
    assert all(len(r) == 1 + len(m.ops) for r in rows1)
    for r in rows1:
        assert all(v > 0 for v in r) and sum(r[1:]) < r[0]
    # the same inputs give the same counts within one run too (the kernels have no state)
    again = prof.count(build, data[: len(data) // 3] * 2, 2, layers=True, timeout=120)[1]
    assert again[0] == again[1] == rows1[0]
    assert_same_bytes(f"kws profiled on {board}", backends.run(m, xs, "python"),
                      backends.unpack_outputs(m, res1.data, 3))


@pytest.mark.qemu
def test_profile_per_layer_report():
    b = get_board("mps2-an386")
    require_board(b)
    require_plugin()
    m = mlperf_model("kws")
    xs = random_inputs(m, 2)
    p = prof.profile(m, xs, b)
    assert p["samples"] == 2 and len(p["per_sample"]) == 2
    assert p["instructions_min"] <= p["instructions"] <= p["instructions_max"]
    assert p["macs"] == sum(op.macs for op in m.ops) > 0
    assert 1 < p["instructions_per_mac"] < 100
    assert [layer["op"] for layer in p["layers"]] == [op.type for op in m.ops]
    assert [layer["macs"] for layer in p["layers"]] == [op.macs for op in m.ops]
    total_layers = sum(layer["instructions"] for layer in p["layers"])
    # Outside the layers: copying the input and output and the calls, a few thousand instructions.
    assert 0 < p["other_instructions"] < 0.01 * p["instructions"]
    assert abs(total_layers + p["other_instructions"] - p["instructions"]) <= len(m.ops)
    conv = [layer for layer in p["layers"] if layer["op"] == "conv2d"]
    assert conv and all(layer["instructions_per_mac"] > 1 for layer in conv)
    assert_same_bytes("kws profiled", backends.run(m, xs, "python"), p["outputs"])


def test_profile_needs_an_emulated_board():
    m = digits_model()
    with pytest.raises(EdgennError, match="no emulator"):
        prof.profile(m, digits_inputs(1), "host")


def test_missing_plugin_header_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGENN_QEMU_PLUGIN_H", str(tmp_path / "nope.h"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    import pathlib

    real_is_file = pathlib.Path.is_file
    monkeypatch.setattr(pathlib.Path, "is_file",
                        lambda self: False if str(self).startswith("/usr") else real_is_file(self))
    with pytest.raises(ToolchainError, match="qemu-plugin.h not found.*make setup"):
        prof.plugin_path()


def test_plugin_is_built_once_into_the_cache(tmp_path, monkeypatch):
    require("gcc")
    header = prof.plugin_header() if _has_header() else None
    if header is None:
        pytest.skip("no qemu-plugin.h (make setup)")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("EDGENN_QEMU_PLUGIN_H", str(header))
    p = prof.plugin_path()
    assert p.is_file() and str(p).startswith(str(tmp_path / "edgenn" / "plugin"))
    mtime = p.stat().st_mtime_ns
    assert prof.plugin_path() == p and p.stat().st_mtime_ns == mtime


def _has_header() -> bool:
    try:
        prof.plugin_header()
        return True
    except ToolchainError:
        return False


@pytest.mark.qemu
def test_cli_run_profile_json_and_analyze_profile(tmp_path):
    require_board(get_board("rpi4"))
    require_board(get_board("mps2-an386"))
    require_plugin()
    from edgenn.format import enn

    enn_path = tmp_path / "digits.enn"
    enn.save(digits_model(), enn_path)
    x = np.load(DIGITS / "test_x.npy")[:5]
    np.save(tmp_path / "x.npy", x)
    runs = []
    for _ in range(2):
        r = edgenn("run", enn_path, "-i", tmp_path / "x.npy", "--backend", "qemu", "--board", "rpi4", "--profile",
                   "--json", "-o", tmp_path / "y.npy")
        assert r.returncode == 0, r.stderr
        runs.append(json.loads(r.stdout))
    a, b = runs
    assert a == b  # identical run to run
    assert a["board"] == "rpi4" and a["samples"] == 5 and isinstance(a["instructions"], int) and a["instructions"] > 0
    assert len(a["layers"]) == len(digits_model().ops)
    for layer in a["layers"]:
        assert {"op", "name", "instructions", "macs", "instructions_per_mac"} <= set(layer)
    y = np.load(tmp_path / "y.npy")
    r = edgenn("run", enn_path, "-i", tmp_path / "x.npy", "-o", tmp_path / "y_py.npy")
    assert r.returncode == 0 and np.array_equal(np.load(tmp_path / "y_py.npy"), y)
    # human-readable table
    r = edgenn("run", enn_path, "-i", tmp_path / "x.npy", "--board", "mps2-an386", "--profile")
    assert r.returncode == 0, r.stderr
    assert "instructions per inference" in r.stdout and "conv2d" in r.stdout
    # analyze shows the same per layer
    r = edgenn("analyze", enn_path, "--board", "mps2-an386", "--profile", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["profile"]["instructions"] > 0 and all("instructions" in layer for layer in rep["layers"])
    r = edgenn("analyze", enn_path, "--board", "mps2-an386", "--profile")
    assert r.returncode == 0 and "instr/MAC" in r.stdout


def test_cli_profile_errors(tmp_path):
    from edgenn.format import enn

    enn_path = tmp_path / "digits.enn"
    enn.save(digits_model(), enn_path)
    np.save(tmp_path / "x.npy", np.load(DIGITS / "test_x.npy")[:2])
    for args, needle in [
        (["run", enn_path, "-i", tmp_path / "x.npy", "--backend", "host", "--profile"], "--backend qemu"),
        (["run", enn_path, "-i", tmp_path / "x.npy", "--board", "host", "--profile"], "no emulator"),
        (["run", enn_path, "-i", tmp_path / "x.npy", "--json", "-o", tmp_path / "y.npy"], "--json goes with --profile"),
        (["run", enn_path, "-i", tmp_path / "x.npy"], "--output"),
        (["analyze", enn_path, "--profile"], "--profile needs --board"),
    ]:
        r = edgenn(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("edgenn: error:") and needle in lines[0], (args, r.stderr)


@pytest.mark.qemu
def test_plugin_counts_exactly(tmp_path):
    """Between the markers: the begin marker's return, five nops and the call of the end marker."""
    b = get_board("rpi4")
    require_board(b)
    require_plugin()
    (tmp_path / "t.c").write_text(
        '__attribute__((noinline)) void edgenn_marker_begin(void) { __asm__ volatile("/* b */" ::: "memory"); }\n'
        '__attribute__((noinline)) void edgenn_marker_end(void) { __asm__ volatile("/* e */" ::: "memory"); }\n'
        "int main(void)\n{\n    int i;\n    for (i = 0; i < 3; i++) {\n        edgenn_marker_begin();\n"
        '        __asm__ volatile("nop\\n\\tnop\\n\\tnop\\n\\tnop\\n\\tnop");\n        edgenn_marker_end();\n'
        "    }\n    return 0;\n}\n")
    r = subprocess.run([b.cc, "-O2", "-static", "t.c", "-o", "t"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "counts.txt"
    args = prof.plugin_args(tmp_path / "t", b, out, layers=False)
    r = subprocess.run(["qemu-aarch64", *args, "./t"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[:3] == ["7", "7", "7"] and lines[3].startswith("total ")


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["mps2-an386", "rpi4"])
def test_hotspots_attribute_every_instruction_to_functions(board):
    """The plugin's block counts (hot=FILE), mapped to the ELF's functions: together they are the
    plugin's own total for the run, and the KWS model's instructions are mostly in its convolution
    kernels (the hot spots a kernel writer looks for)."""
    from edgenn.emulation.hotspots import hotspots

    b = get_board(board)
    require_board(b)
    require_plugin()
    m = mlperf_model("kws")
    hs = hotspots(m, random_inputs(m, 2), b)
    assert sum(f.instructions for f in hs.functions) == hs.total
    assert all(sum(bl.instructions for bl in f.blocks) == f.instructions for f in hs.functions)
    assert [f.instructions for f in hs.functions] == sorted((f.instructions for f in hs.functions), reverse=True)
    conv = sum(f.instructions for f in hs.functions if "conv2d" in f.name)
    assert conv > 0.6 * hs.total, [(f.name, f.instructions) for f in hs.functions[:5]]
    assert not any(f.name.startswith("?") for f in hs.functions[:5])
