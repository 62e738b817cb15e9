"""Calibration methods: min/max, and percentile clipping that resists outliers."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

from edgenn.converter.calibrate import HIST_BINS, clip_range
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.errors import DataError
from edgenn.validate import validate

from onnx_models import Builder


def test_clip_range_keeps_the_requested_share():
    v = np.concatenate([np.linspace(-1, 1, 100_000), [50.0]])  # one outlier
    hist = np.histogram(v, bins=HIST_BINS, range=(-1, 50))[0]
    lo, hi = clip_range(hist, (-1.0, 50.0), 99.99)
    assert lo == -1.0 and hi < 1.1  # the outlier is cut, the bulk is kept
    lo2, hi2 = clip_range(hist, (-1.0, 50.0), 100.0)
    assert (lo2, hi2) == (-1.0, 50.0)
    relu = np.histogram(np.abs(v), bins=HIST_BINS, range=(0, 50))[0]
    assert clip_range(relu, (0.0, 50.0), 99.99)[0] == 0.0  # one-signed tensors keep their exact 0


def _model(tmp_path):
    b = Builder(11)
    h = b.node("Relu", [b.conv("x", 2, 8, 3)])
    g = b.node("GlobalAveragePool", [h])
    f = b.node("Flatten", [g], axis=1)
    y = b.node("Gemm", [f, b.const(b.rng.normal(0, 0.5, (4, 8)).astype(np.float32))], transB=1)
    p = tmp_path / "m.onnx"
    onnx.save(b.model([("x", [1, 2, 8, 8])], [y]), p)
    return p


def test_percentile_calibration_resists_outliers(tmp_path):
    p = _model(tmp_path)
    rng = np.random.default_rng(0)
    calib = rng.normal(0, 1, (128, 2, 8, 8)).astype(np.float32)
    calib[3, 1, 2, 2] = 400.0  # one corrupted value among 16,384
    test = rng.normal(0, 1, (128, 2, 8, 8)).astype(np.float32)
    scores = {}
    for method in ("minmax", "percentile"):
        m = convert(p, [calib], ConvertOptions(progress=False, calib_method=method))
        rep = validate(p, m, [test], None, ["python"], progress=False)
        scores[method] = rep["backends"]["python"]["cosine"]
    assert scores["percentile"] > scores["minmax"]
    assert scores["percentile"] > 0.99


def test_bad_calibration_options(tmp_path):
    p = _model(tmp_path)
    x = np.zeros((4, 2, 8, 8), np.float32)
    with pytest.raises(DataError, match="percentile"):
        convert(p, [x], ConvertOptions(progress=False, calib_method="percentile", calib_percentile=10))
    with pytest.raises(DataError, match="unknown calibration method"):
        convert(p, [x], ConvertOptions(progress=False, calib_method="kl"))
