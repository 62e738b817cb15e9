"""Bad input: one clear line on stderr, exit status 2, no traceback, no partial output file."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from onnx_models import Builder, ds_residual_cnn

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits"


def edgenn(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgenn", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def assert_user_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("edgenn: error:"), lines[0]
    for n in needles:
        assert n.lower() in lines[0].lower(), f"{n!r} not in {lines[0]!r}"


def _convert_fails(tmp_path: Path, model_path: Path, calib: Path | None, *needles: str, extra=()) -> None:
    out = tmp_path / "out.enn"
    args = ["convert", model_path, "-o", out, *extra]
    if calib is not None:
        args += ["--calib", calib]
    r = edgenn(*args)
    assert_user_error(r, *needles)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.enn")], "temporary file left behind"


def _save(tmp_path: Path, m: onnx.ModelProto, name: str = "m.onnx") -> Path:
    p = tmp_path / name
    onnx.save(m, p)
    return p


def test_unsupported_op_names_op_and_node(tmp_path):
    b = Builder()
    h = b.conv("input", 1, 4)
    y = b.node("Sin", [h])
    p = _save(tmp_path, b.model([("input", [1, 1, 8, 8])], [y]))
    calib = tmp_path / "c.npy"
    np.save(calib, np.zeros((4, 1, 8, 8), np.float32))
    _convert_fails(tmp_path, p, calib, "Sin", b.nodes[-1].name)


def _conv_model(tmp_path: Path, shape: list) -> tuple[Path, Path]:
    b = Builder()
    y = b.node("Relu", [b.conv("input", 1, 4)])
    p = _save(tmp_path, b.model([("input", shape)], [y]))
    calib = tmp_path / "c.npy"
    np.save(calib, np.random.default_rng(0).normal(size=(4, 1, 8, 8)).astype(np.float32))
    return p, calib


@pytest.mark.parametrize("batch", ["N", None])  # dynamic_axes of torch.onnx.export; skl2onnx's None
def test_dynamic_batch_axis_is_fixed_to_one_with_a_note(tmp_path, batch):
    from edgenn.format import enn

    p, calib = _conv_model(tmp_path, [batch, 1, 8, 8])
    r = edgenn("convert", p, "--calib", calib, "-o", tmp_path / "ok.enn")
    assert r.returncode == 0, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("edgenn: note:"), r.stderr
    assert "dynamic batch axis" in lines[0] and "fixed to 1" in lines[0] and "1x1x8x8" in lines[0]
    m = enn.load(tmp_path / "ok.enn")
    assert tuple(m.inputs[0].source_shape) == (1, 1, 8, 8)
    r = edgenn("convert", p, "--calib", calib, "-o", tmp_path / "q.enn", "--quiet")
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_dynamic_non_batch_axes_name_the_exact_input_shape_to_pass(tmp_path):
    p, calib = _conv_model(tmp_path, ["N", 1, "height", "width"])
    _convert_fails(tmp_path, p, calib, "dynamic", "'height'", "'width'", "--input-shape input=1x1x<height>x<width>")


@pytest.mark.parametrize("given, needles", [("image=1x1x8x8", ("no input 'image'", "inputs: input")),
                                            ("input=1x8x8", ("3 dimensions", "has 4")),
                                            ("input=1x2x8x8", ("axis 1", "fixed to 1"))])
def test_input_shape_must_name_an_input_and_match_it(tmp_path, given, needles):
    p, calib = _conv_model(tmp_path, ["N", 1, 8, 8])
    _convert_fails(tmp_path, p, calib, *needles, extra=["--input-shape", given])


def test_dynamic_shape_can_be_fixed_on_the_command_line(tmp_path):
    b = Builder()
    y = b.node("Relu", [b.conv("input", 1, 4)])
    p = _save(tmp_path, b.model([("input", ["N", 1, 8, 8])], [y]))
    calib = tmp_path / "c.npy"
    np.save(calib, np.random.default_rng(0).normal(size=(4, 1, 8, 8)).astype(np.float32))
    r = edgenn("convert", p, "--calib", calib, "-o", tmp_path / "ok.enn", "--input-shape", "input=1x1x8x8")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "ok.enn").exists()


def test_missing_model(tmp_path):
    _convert_fails(tmp_path, tmp_path / "nope.onnx", None, "no such file")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_onnx(tmp_path, damage):
    good = _save(tmp_path, ds_residual_cnn(), "good.onnx").read_bytes()
    data = {"garbage": bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8)),
            "truncated": good[: len(good) // 2], "empty": b""}[damage]
    p = tmp_path / "bad.onnx"
    p.write_bytes(data)
    calib = tmp_path / "c.npy"
    np.save(calib, np.zeros((4, 3, 16, 16), np.float32))
    _convert_fails(tmp_path, p, calib, "bad.onnx")


def test_calibration_wrong_shape(tmp_path):
    calib = tmp_path / "c.npy"
    np.save(calib, np.zeros((10, 3, 8, 8), np.float32))
    _convert_fails(tmp_path, EXAMPLE / "model.onnx", calib, "shape", "(10, 3, 8, 8)", "input")


def test_calibration_with_nan(tmp_path):
    x = np.load(EXAMPLE / "calib.npy")
    x[3, 0, 2, 2] = np.nan
    calib = tmp_path / "c.npy"
    np.save(calib, x)
    _convert_fails(tmp_path, EXAMPLE / "model.onnx", calib, "NaN", "sample 3")


def test_calibration_not_an_array(tmp_path):
    calib = tmp_path / "c.npy"
    calib.write_text("hello")
    _convert_fails(tmp_path, EXAMPLE / "model.onnx", calib, "calibration data")


def test_missing_calibration_for_onnx(tmp_path):
    _convert_fails(tmp_path, EXAMPLE / "model.onnx", None, "--calib")


def test_nan_weights(tmp_path):
    b = Builder()
    y = b.conv("input", 1, 4)
    w = onnx.numpy_helper.to_array(b.inits[0]).copy()
    w[0, 0, 0, 0] = np.inf
    b.inits[0].CopyFrom(onnx.numpy_helper.from_array(w, b.inits[0].name))
    p = _save(tmp_path, b.model([("input", [1, 1, 8, 8])], [y]))
    calib = tmp_path / "c.npy"
    np.save(calib, np.zeros((4, 1, 8, 8), np.float32))
    _convert_fails(tmp_path, p, calib, "NaN or Inf")


def test_bad_enn_for_analyze(tmp_path):
    p = tmp_path / "x.enn"
    p.write_bytes(b"not a model at all")
    assert_user_error(edgenn("analyze", p), "x.enn")


def test_failed_conversion_keeps_previous_output(tmp_path):
    out = tmp_path / "out.enn"
    out.write_bytes(b"previous")
    calib = tmp_path / "c.npy"
    np.save(calib, np.zeros((3, 2, 2), np.float32))
    r = edgenn("convert", EXAMPLE / "model.onnx", "--calib", calib, "-o", out)
    assert_user_error(r, "shape")
    assert out.read_bytes() == b"previous"
