"""Backends: runtime_py == host C == firmware under QEMU, byte for byte; failures are reported.

Models are single fully_connected operators built with the op-test harness (tests/ops/harness.py).
Every run feeds 50 random int8 samples, the first two all -128 and all 127.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from edgenn.boards import get_board
from edgenn.emulation import backends
from edgenn.errors import DataError, EdgennError, FitError
from edgenn.runtime_py.interpreter import Interpreter
from harness import Case, T, build_model, random_inputs

SAMPLES = 50
QEMU_BOARD = "mps2-an386"


def require(*tools: str) -> None:
    """Skip when a tool is missing, except in CI (CI=true), where a missing tool is a failure."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"not installed: {', '.join(missing)} (run `make setup`)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def fc_case(rng: np.random.Generator, batches: int, depth: int, units: int, per_channel: bool, bias: bool,
            act: tuple, in_zp: int, out_zp: int, out_scale_factor: float) -> Case:
    w = rng.integers(-127, 128, size=(units, depth)).astype(np.int8)
    ws = rng.uniform(0.001, 0.05, size=units if per_channel else 1).astype(np.float32)
    xs = 0.05
    ys = float(xs * ws.mean() * np.sqrt(depth) * out_scale_factor)
    b = T((units,), xs * ws, 0, rng.integers(-20000, 20000, size=units).astype(np.int32), "int32") if bias else None
    return Case("fully_connected",
                [T((batches, depth), xs, in_zp), T((units, depth), ws, 0, w, axis=0), b],
                [T((batches, units), ys, out_zp)], {"act": act})


def make_models() -> dict[str, object]:
    rng = np.random.default_rng(20240601)
    specs = {
        # name: batches, depth, units, per_channel, bias, act, in_zp, out_zp, output scale factor
        "fc_small": (1, 37, 10, True, True, (None, None), 3, -5, 20.0),
        "fc_saturating": (2, 150, 7, False, True, (0.0, 6.0), -128, 127, 1.0),
        "fc_depth1": (1, 1, 1, True, False, (None, None), 127, -128, 40.0),
        "fc_wide": (3, 256, 33, True, True, (-1.0, 1.0), 0, 0, 80.0),
    }
    return {name: build_model(fc_case(rng, *spec), name) for name, spec in specs.items()}


MODELS = make_models()

def _io_bytes(m, which) -> int:
    return sum(m.tensors[d.tensor].nbytes for d in which)


MODELS_IN_BYTES = {n: _io_bytes(m, m.inputs) for n, m in MODELS.items()}
MODELS_OUT_BYTES = {n: _io_bytes(m, m.outputs) for n, m in MODELS.items()}


@pytest.fixture(scope="module")
def inputs() -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(7)
    xs = {name: random_inputs(m, SAMPLES, rng) for name, m in MODELS.items()}
    for x in xs.values():
        assert np.all(x[0][0] == -128) and np.all(x[0][1] == 127)
    return xs


@pytest.fixture(scope="module")
def expected(inputs) -> dict[str, list[np.ndarray]]:
    return {name: backends.run(m, inputs[name], backend="python") for name, m in MODELS.items()}


def assert_same_bytes(name: str, want: list[np.ndarray], got: list[np.ndarray], backend: str) -> None:
    assert len(want) == len(got)
    for k, (a, b) in enumerate(zip(want, got)):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{name} output {k}: {b.dtype} {b.shape} vs {a.dtype} {a.shape}"
        if a.tobytes() != b.tobytes():
            bad = np.argwhere(a != b)
            raise AssertionError(f"{name} output {k}: {backend} differs from python at {len(bad)} of {a.size} "
                                 f"bytes, first at {tuple(bad[0])}: python {a[tuple(bad[0])]} vs {b[tuple(bad[0])]}")


# ---- bit exactness ----

@pytest.mark.parametrize("name", sorted(MODELS))
def test_host_equals_python(name, inputs, expected):
    require("gcc", "make")
    got = backends.run(MODELS[name], inputs[name], backend="host")
    assert_same_bytes(name, expected[name], got, "host")


@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(MODELS))
def test_qemu_equals_python(name, inputs, expected):
    require("arm-none-eabi-gcc", "qemu-system-arm", "make")
    got = backends.run(MODELS[name], inputs[name], backend="qemu", board=QEMU_BOARD, timeout=60)
    assert_same_bytes(name, expected[name], got, "qemu")


def test_python_is_deterministic(inputs, expected):
    # The reference must not depend on how samples are chunked.
    m = MODELS["fc_wide"]
    again = Interpreter(m).invoke(*inputs["fc_wide"], chunk=7)
    assert_same_bytes("fc_wide", expected["fc_wide"], again, "python (chunked)")


# ---- builds we reuse for the failure tests ----

@pytest.fixture(scope="module")
def host_build(tmp_path_factory) -> backends.BuildResult:
    require("gcc", "make")
    return backends.build(MODELS["fc_small"], get_board("host"), tmp_path_factory.mktemp("host") / "fc_small")


@pytest.fixture(scope="module")
def qemu_build(tmp_path_factory) -> backends.BuildResult:
    require("arm-none-eabi-gcc", "qemu-system-arm", "make")
    # Extra CFLAGS must add to the board's flags, not replace them (a build without -mthumb
    # -mcpu=cortex-m4 would not run at all).
    return backends.build(MODELS["fc_small"], get_board(QEMU_BOARD), tmp_path_factory.mktemp("qemu") / "fc_small",
                          cflags="-DEDGENN_TEST_EXTRA_FLAG=1")


def build_for(kind: str, request) -> backends.BuildResult:
    return request.getfixturevalue(f"{kind}_build")


BUILDS = ["host", pytest.param("qemu", marks=pytest.mark.qemu)]


@pytest.mark.parametrize("kind", BUILDS)
def test_built_runs_and_matches(kind, request, inputs, expected):
    b = build_for(kind, request)
    got = backends.run_built(b, MODELS["fc_small"], inputs["fc_small"], timeout=60)
    assert_same_bytes("fc_small", expected["fc_small"], got, kind)


@pytest.mark.qemu
def test_firmware_reports_stack_use(qemu_build):
    res = backends.run_raw(qemu_build, bytes(MODELS_IN_BYTES["fc_small"] * 2), timeout=60)
    assert res.returncode == 0
    assert res.stack_used is not None and 0 < res.stack_used < get_board(QEMU_BOARD).stack_bytes
    assert len(res.data) == 2 * MODELS_OUT_BYTES["fc_small"]



# ---- malformed inputs are errors, not crashes ----

@pytest.mark.parametrize("kind", BUILDS)
@pytest.mark.parametrize("extra", [-1, 1, -(MODELS_IN_BYTES["fc_small"] - 1)])
def test_truncated_or_odd_sized_inputs_file(kind, extra, request, inputs):
    b = build_for(kind, request)
    data = backends.pack_inputs(MODELS["fc_small"], inputs["fc_small"])
    data = data[:extra] if extra < 0 else data + bytes(extra)
    with pytest.raises(EdgennError, match=r"status 5: inputs.bin is not a whole number of samples"):
        backends.run_raw(b, data, timeout=60)


@pytest.mark.parametrize("kind", BUILDS)
def test_missing_inputs_file(kind, request):
    with pytest.raises(EdgennError, match=r"status 3: cannot open inputs.bin"):
        backends.run_raw(build_for(kind, request), None, timeout=60)


@pytest.mark.parametrize("kind", BUILDS)
def test_zero_samples(kind, request):
    m = MODELS["fc_small"]
    x = np.zeros((0,) + tuple(m.tensors[m.inputs[0].tensor].shape), np.int8)
    out = backends.run_built(build_for(kind, request), m, [x], timeout=60)
    assert out[0].shape == (0,) + tuple(m.tensors[m.outputs[0].tensor].shape)


@pytest.mark.parametrize("backend", ["python", "host", pytest.param("qemu", marks=pytest.mark.qemu)])
def test_wrong_input_shapes_and_types(backend, inputs):
    m = MODELS["fc_small"]
    x = inputs["fc_small"][0]
    bad = [
        [x[:, :, :-1]],              # one byte short per sample
        [x.astype(np.int16)],        # wrong dtype
        [x, x],                      # too many inputs
        [x[:, 0, :]],                # missing a dimension
    ]
    for xs in bad:
        with pytest.raises(DataError):
            backends.run(m, xs, backend=backend)


def test_output_size_mismatch_is_an_error():
    m = MODELS["fc_small"]
    with pytest.raises(EdgennError, match="output bytes"):
        backends.unpack_outputs(m, bytes(MODELS_OUT_BYTES["fc_small"] * 3 - 1), 3)


def test_unknown_backend_and_board():
    m = MODELS["fc_small"]
    x = np.zeros((1,) + tuple(m.tensors[m.inputs[0].tensor].shape), np.int8)
    with pytest.raises(EdgennError, match="unknown backend"):
        backends.run(m, [x], backend="fpga")
    with pytest.raises(EdgennError, match="unknown board"):
        backends.run(m, [x], backend="qemu", board="no-such-board")
    with pytest.raises(EdgennError, match="no emulator"):
        backends.run(m, [x], backend="qemu", board="host")


# ---- firmware faults ----

@pytest.mark.qemu
def test_firmware_fault_is_reported(tmp_path):
    require("arm-none-eabi-gcc", "qemu-system-arm", "make")
    b = backends.build(MODELS["fc_small"], get_board(QEMU_BOARD), tmp_path / "fault", cflags="-DEDGENN_SELFTEST_FAULT")
    with pytest.raises(EdgennError) as e:
        backends.run_raw(b, bytes(MODELS_IN_BYTES["fc_small"]), timeout=60)
    msg = str(e.value)
    assert "status 131" in msg and "HardFault" in msg, msg
    assert "UNDEFINSTR" in msg and "in main()" in msg, msg


@pytest.mark.qemu
def test_stack_overflow_is_reported(tmp_path):
    """A stack too small for the firmware: refused before it runs (its deepest stack, from gcc's call
    graph, exceeds what it reserves); built anyway, the painted stack's guard words catch it."""
    require("arm-none-eabi-gcc", "qemu-system-arm", "make")
    from edgenn.emulation.size import stack_of

    board = get_board(QEMU_BOARD)
    ok = backends.build(MODELS["fc_small"], board, tmp_path / "ok")  # fits: no error
    need = stack_of(ok.directory, "Reset_Handler", board.cc)[0]
    used = backends.run_raw(ok, bytes(MODELS_IN_BYTES["fc_small"]), timeout=60).stack_used
    assert used <= need
    tiny = dataclasses.replace(board, stack_bytes=used + 16)  # the firmware reaches 16 B into the 32 guard bytes
    with pytest.raises(FitError, match=r"does not fit mps2-an386 \(measured\): stack: the test firmware needs "
                                       rf"{need:,} B of stack \(Reset_Handler -> main -> "):
        backends.build(MODELS["fc_small"], tiny, tmp_path / "a")
    b = backends.build(MODELS["fc_small"], tiny, tmp_path / "b", check_stack=False)
    with pytest.raises(EdgennError, match="status 9: stack overflow"):
        backends.run_raw(b, bytes(MODELS_IN_BYTES["fc_small"]), timeout=60)


@pytest.mark.qemu
def test_timeout_is_an_error(qemu_build):
    with pytest.raises(EdgennError, match="timed out"):
        backends.run_raw(qemu_build, bytes(MODELS_IN_BYTES["fc_small"]), timeout=0.001)


def test_lockup_and_crash_messages():
    board = get_board(QEMU_BOARD)
    b = backends.BuildResult(Path("/nonexistent"), Path("/nonexistent/firmware.elf"), board)
    dump = "qemu: fatal: Lockup: can't escalate 3 to HardFault (current priority -1)\n\nR00=0\n" \
           "R12=00000001 R13=20000000 R14=1fffffe5 R15=00000000\ns00=00000000\n"
    msg = backends._failure(b, backends.RunOutput(None, -6, "", dump, 0.1), ["/usr/bin/qemu-system-arm"])
    assert "SIGABRT" in msg and "lockup" in msg and "R15=" in msg and "s00" not in msg, msg
    msg = backends._failure(b, backends.RunOutput(None, 1, "", "qemu-system-arm: -kernel: bad file\n", 0.1),
                            ["/usr/bin/qemu-system-arm"])
    assert "emulator failed with status 1" in msg and "bad file" in msg, msg
    host = backends.BuildResult(Path("/x"), Path("/x/runner"), get_board("host"))
    msg = backends._failure(host, backends.RunOutput(None, -11, "", "", 0.1), ["/x/runner"])
    assert "SIGSEGV" in msg, msg
