"""What real exporters and new users feed edgenn: near-constant ranges, float operators left in an
int8 .tflite, the wrong source model or data type, multi-output models, pruning reports, boards
that are too small, and progress on a terminal."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.converter.quantize_util import MIN_ACTIVATION_SCALE
from edgenn.emulation import backends as be
from edgenn.errors import EdgennWarning
from edgenn.format import enn

from onnx_models import Builder

ROOT = Path(__file__).resolve().parent.parent
TFLITE = ROOT / "tests" / "data" / "tflite"
MLPERF = ROOT / "tests" / "data" / "mlperf_tiny"
DIGITS = ROOT / "examples" / "digits"
DSCNN = ROOT / "examples" / "dscnn"


def edgenn(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgenn", *map(str, args)], capture_output=True, text=True,
                          timeout=900, env=env)


def one_error_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("edgenn: error:") and "Traceback" not in r.stderr, r.stderr
    return lines[0]


# ---------------------------------------------------------------------- degenerate ranges

def _squeeze_excite_model(tmp_path: Path) -> Path:
    """conv -> global average pool -> conv with tiny weights -> Sigmoid -> Mul: the gate's input varies
    by about 1e-9 (efficientnet_b0 with default initialisation has such gates)."""
    b = Builder(3)
    h = b.node("Relu", [b.conv("x", 3, 8, 3)])
    pooled = b.node("GlobalAveragePool", [h])
    w = (b.rng.normal(0, 1, (8, 8, 1, 1)) * 1e-9).astype(np.float32)
    gate_in = b.node("Conv", [pooled, b.const(w), b.const(np.zeros(8, np.float32))], kernel_shape=[1, 1])
    gate = b.node("Sigmoid", [gate_in])
    y = b.node("Mul", [h, gate])
    p = tmp_path / "se.onnx"
    onnx.save(b.model([("x", [1, 3, 8, 8])], [y]), p)
    return p


def test_near_constant_range_is_clamped_with_a_warning_naming_the_layer(tmp_path):
    src = _squeeze_excite_model(tmp_path)
    calib = np.random.default_rng(0).normal(size=(16, 1, 3, 8, 8)).astype(np.float32)
    with pytest.warns(EdgennWarning, match=r"se\.onnx: 1 layer has a nearly constant range.*Conv_node"):
        m = convert(src, [calib], ConvertOptions(progress=False))
    logistic = next(op for op in m.ops if op.type == "logistic")
    x_scale = float(m.tensors[logistic.inputs[0]].scale[0])
    assert x_scale == pytest.approx(MIN_ACTIVATION_SCALE)
    # The gate is sigmoid(~0) = 0.5 and the model still runs bit-exactly in C.
    x = [np.random.default_rng(1).integers(-128, 128, (4,) + tuple(m.tensors[m.inputs[0].tensor].shape))
         .astype(np.int8)]
    assert np.array_equal(be.run(m, x, "python")[0], be.run(m, x, "host")[0])


def test_ordinary_ranges_are_not_touched():
    with warnings.catch_warnings():
        warnings.simplefilter("error", EdgennWarning)
        m = convert(DIGITS / "model.onnx", [np.load(DIGITS / "calib.npy")], ConvertOptions(progress=False))
    assert all(t.is_const or float(t.scale[0]) > MIN_ACTIVATION_SCALE for t in m.tensors if len(t.scale))


def test_cli_prints_the_clamp_as_one_warning_line(tmp_path):
    src = _squeeze_excite_model(tmp_path)
    np.save(tmp_path / "c.npy", np.random.default_rng(0).normal(size=(16, 1, 3, 8, 8)).astype(np.float32))
    r = edgenn("convert", src, "--calib", tmp_path / "c.npy", "-o", tmp_path / "se.enn", "-q")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgenn: warning:") and "se.onnx" in lines[0], r.stderr


# ---------------------------------------------------------------------- .tflite with a float operator

def test_float_operator_in_an_int8_tflite_is_named_with_its_index(tmp_path):
    r = edgenn("convert", TFLITE / "float_op_int8.tflite", "-o", tmp_path / "x.enn")
    line = one_error_line(r)
    assert "float_op_int8.tflite" in line and "operator 2 (ELU)" in line and "float32" in line
    assert "DEQUANTIZE" in line and "--calib" in line  # what to do: the ONNX source, quantized by edgenn
    assert not (tmp_path / "x.enn").exists()


# ---------------------------------------------------------------------- validate

@pytest.fixture(scope="module")
def digits_enn(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("digits") / "digits.enn"
    enn.save(convert(DIGITS / "model.onnx", [np.load(DIGITS / "calib.npy")], ConvertOptions(progress=False)), p)
    return p


def test_validate_refuses_another_source_model(digits_enn):
    r = edgenn("validate", DSCNN / "model.onnx", digits_enn, "--data", DIGITS / "test_x.npy")
    line = one_error_line(r)
    assert "dscnn/model.onnx is not the model" in line and "sha256" in line
    r = edgenn("validate", DIGITS / "model.onnx", digits_enn, "--data", DIGITS / "test_x.npy")
    assert r.returncode == 0, r.stderr


def test_validate_reports_every_output_and_labels_the_tflm_reference(tmp_path):
    from edgenn.converter.tflite_import import convert_tflite_bytes

    src = TFLITE / "misc_int8.tflite"
    m = convert_tflite_bytes(src.read_bytes(), "misc", str(src))
    assert len(m.outputs) == 2
    p = tmp_path / "misc.enn"
    enn.save(m, p)
    rng = np.random.default_rng(0)
    args = []
    for k, d in enumerate(m.inputs):
        f = tmp_path / f"in{k}.npy"
        np.save(f, rng.integers(-128, 128, (6,) + tuple(d.source_shape)).astype(np.int8))
        args += ["--data", f]
    np.save(tmp_path / "labels.npy", rng.integers(0, 2, 6))
    r = edgenn("validate", src, p, *args, "--labels", tmp_path / "labels.npy", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["outputs"] == [d.source_name for d in m.outputs]
    per = rep["backends"]["python"]["outputs"]
    assert [o["name"] for o in per] == rep["outputs"]
    assert all(o["tflm_mismatched_bytes"] == 0 and o["cosine"] == pytest.approx(1.0) for o in per)
    assert "reference_accuracy" in rep and "float_accuracy" not in rep
    r = edgenn("validate", src, p, *args, "--labels", tmp_path / "labels.npy")
    first = r.stdout.splitlines()[0]
    assert "TFLM" in first and "float accuracy" not in r.stdout
    for name in rep["outputs"]:
        assert f"output '{name}'" in r.stdout


# ---------------------------------------------------------------------- data types

@pytest.mark.parametrize("dtype", ["uint8", "int32", "int8"])
def test_calibration_data_must_be_float(tmp_path, dtype):
    x = np.load(DIGITS / "calib.npy")
    np.save(tmp_path / "c.npy", np.clip(x * 10, 0, 100).astype(dtype))
    line = one_error_line(edgenn("convert", DIGITS / "model.onnx", "--calib", tmp_path / "c.npy",
                                 "-o", tmp_path / "x.enn"))
    assert f"calibration data {tmp_path / 'c.npy'} has dtype {dtype}" in line and "float" in line


def test_calibration_of_an_integer_input_takes_integer_ids(tmp_path):
    """An integer input (token ids of an Embedding) is calibrated with integers, as run takes them:
    the float-only rule is per input; other dtypes are refused naming the file."""
    src = ROOT / "tests" / "data" / "onnx_nets" / "text_opset17.onnx"
    ids = np.random.default_rng(0).integers(0, 50, (32, 10))
    np.save(tmp_path / "ids.npy", ids.astype(np.int64))
    r = edgenn("convert", src, "--calib", tmp_path / "ids.npy", "-o", tmp_path / "t.enn", "-q")
    assert r.returncode == 0 and enn.load(tmp_path / "t.enn").ops[0].type == "gather", r.stderr
    np.save(tmp_path / "b.npy", ids > 25)
    line = one_error_line(edgenn("convert", src, "--calib", tmp_path / "b.npy", "-o", tmp_path / "b.enn"))
    assert f"calibration data {tmp_path / 'b.npy'} has dtype bool" in line and "int32" in line


@pytest.mark.parametrize("dtype", ["uint8", "int32"])
def test_run_refuses_the_same_dtypes(tmp_path, digits_enn, dtype):
    np.save(tmp_path / "x.npy", np.zeros((2, 8, 8), dtype))
    line = one_error_line(edgenn("run", digits_enn, "-i", tmp_path / "x.npy", "-o", tmp_path / "y.npy"))
    assert f"has dtype {dtype}" in line and "float32" in line and "int8" in line


# ---------------------------------------------------------------------- pruning report

def test_pruning_report_is_measured_on_held_out_calibration_samples(tmp_path):
    """Without --eval-data the report holds every 5th calibration sample out, converts both models
    on the rest and measures on the held-out ones; it says so. The written model uses all samples."""
    from edgenn.converter.shrink.transforms import parse_prune
    from edgenn.savings import quality

    calib = np.load(DSCNN / "calib.npy")
    out, rep_path = tmp_path / "p.enn", tmp_path / "r.json"
    r = edgenn("convert", DSCNN / "model.onnx", "--calib", DSCNN / "calib.npy", "-o", out,
               "--prune", "structured:0.3", "--report-json", rep_path)
    assert r.returncode == 0, r.stderr
    q = json.loads(rep_path.read_text())["quality"]
    held = np.arange(len(calib)) % 5 == 4
    assert q["samples"] == int(held.sum()) and "held out" in q["data"]
    assert "held out" in r.stderr
    # The same figures from models that never saw the held-out samples ...
    opts = ConvertOptions(progress=False, prune=(parse_prune("structured:0.3"),))
    after = convert(DSCNN / "model.onnx", [calib[~held]], opts)
    before = convert(DSCNN / "model.onnx", [calib[~held]], ConvertOptions(progress=False))
    again = quality(DSCNN / "model.onnx", {"before": before, "after": after}, [calib[held]], None)
    assert again["after"]["cosine"] == pytest.approx(q["after"]["cosine"], abs=1e-12)
    assert again["before"]["cosine"] == pytest.approx(q["before"]["cosine"], abs=1e-12)
    # ... and the written model is the conversion on every sample.
    enn.save(convert(DSCNN / "model.onnx", [calib], opts), tmp_path / "full.enn")
    assert (tmp_path / "full.enn").read_bytes() == out.read_bytes()


# ---------------------------------------------------------------------- analyze --board

def test_analyze_board_exits_nonzero_when_the_model_does_not_fit(tmp_path):
    from edgenn.converter.tflite_import import convert_tflite_bytes

    src = MLPERF / "pretrainedResnet_quant.tflite"  # 33 KB of arena: too much for the micro:bit's 16 KB
    p = tmp_path / "ic.enn"
    enn.save(convert_tflite_bytes(src.read_bytes(), "ic", str(src)), p)
    r = edgenn("analyze", p, "--board", "microbit")
    assert r.returncode == 1 and "does NOT fit" in r.stdout and "does not fit microbit" in r.stderr, r.stderr
    r = edgenn("analyze", p, "--board", "microbit", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["board"]["fits"] is False
    r = edgenn("analyze", p, "--board", "mps2-an386")
    assert r.returncode == 0 and "fits" in r.stdout


# ---------------------------------------------------------------------- progress

def _stderr_on_a_terminal(args: list) -> str:
    """Run the CLI with stderr on a pseudo-terminal; the text it showed there (escapes removed)."""
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "edgenn", *map(str, args)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, env={**os.environ, "TERM": "xterm"})
    os.close(slave)
    data = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=600)
    os.close(master)
    assert proc.returncode == 0
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", data.decode(errors="replace"))


def test_progress_shows_every_step_on_a_terminal_and_nothing_when_quiet(tmp_path):
    args = ["convert", DIGITS / "model.onnx", "--calib", DIGITS / "calib.npy", "-o", tmp_path / "d.enn"]
    shown = _stderr_on_a_terminal(args)
    for step in ("importing model.onnx", "folding and fusing", "calibrating", "quantizing",
                 "computing fixed-point parameters", "planning memory"):
        assert step in shown, (step, shown[-2000:])
    assert _stderr_on_a_terminal(args + ["--quiet"]) == ""
    shown = _stderr_on_a_terminal(["run", tmp_path / "d.enn", "-i", DIGITS / "test_x.npy", "-o", tmp_path / "y.npy",
                                   "--backend", "host"])
    for step in ("generating C for digits", "compiling digits for host", "running on host"):
        assert step in shown, (step, shown[-2000:])


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    r = edgenn("convert", DIGITS / "model.onnx", "--calib", DIGITS / "calib.npy", "-o", tmp_path / "d.enn")
    assert r.returncode == 0 and r.stderr == "", r.stderr
