"""Unstructured magnitude pruning, weight clustering, their CLI and the before/after report."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgenn.converter.shrink.cluster import cluster_weights, kmeans_1d
from edgenn.converter.float_exec import graph_feeds, run_graph
from edgenn.converter.shrink.unstructured import MIN_FAN_IN, fan_in_of, prune_unstructured
from edgenn.converter.onnx_import import import_onnx
from edgenn.converter.passes import simplify
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.converter.shrink.bias_correction import weighted_ops
from edgenn.converter.shrink.transforms import PruneSpec, parse_prune
from edgenn.errors import DataError

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples" / "digits"
DSCNN = ROOT / "examples" / "dscnn"


def float_graph(example: Path):
    g, _ = import_onnx(example / "model.onnx", {})
    simplify(g)
    return g


def edgenn(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgenn", *args], capture_output=True, text=True)


@pytest.mark.parametrize("spec, kind, ratio", [("structured:0.3", "structured", 0.3),
                                               ("Unstructured:0", "unstructured", 0.0)])
def test_parse_prune(spec, kind, ratio):
    assert parse_prune(spec) == PruneSpec(kind, ratio)


@pytest.mark.parametrize("spec", ["structured", "structured:", "channels:0.3", "structured:1", "unstructured:-0.1",
                                  "structured:abc"])
def test_parse_prune_rejects(spec):
    with pytest.raises(DataError):
        parse_prune(spec)


@pytest.mark.parametrize("ratio", [0.25, 0.5, 0.8])
def test_unstructured_zeroes_the_smallest_weights_of_each_eligible_layer(ratio):
    g = float_graph(DSCNN)
    before = {op.name: g.tensors[op.inputs[1]].data.copy() for op in weighted_ops(g)}
    rep = prune_unstructured(g, ratio)
    assert len(rep.layers) == len(before)
    for op in weighted_ops(g):
        w0, w1 = before[op.name], g.tensors[op.inputs[1]].data
        if fan_in_of(op, w0) < MIN_FAN_IN:
            np.testing.assert_array_equal(w0, w1)  # small filters stay dense
            continue
        k = int(round(ratio * w0.size))
        assert np.count_nonzero(w1 == 0) == k
        kept = w1 != 0
        np.testing.assert_array_equal(w1[kept], w0[kept])
        assert np.abs(w0[~kept]).max() <= np.abs(w0[kept]).min()  # the smallest ones went


def test_bias_correction_removes_the_mean_output_shift():
    g0 = float_graph(DSCNN)
    feeds = graph_feeds(g0, [np.load(DSCNN / "calib.npy")])
    op = next(op for op in weighted_ops(g0) if op.type == "conv2d" and fan_in_of(op, g0.tensors[op.inputs[1]].data) >= 32)
    shifts = {}
    for corrected in (False, True):
        g = copy.deepcopy(g0)
        prune_unstructured(g, 0.6, feeds if corrected else None, only={op.name})
        x = run_graph(g0, feeds, wanted=[op.inputs[0]])[op.inputs[0]]
        from edgenn.converter.float_exec import eval_op

        y0 = eval_op(next(o for o in g0.ops if o.name == op.name), g0, {op.inputs[0]: x}, apply_act=False)[0]
        gop = next(o for o in g.ops if o.name == op.name)
        y1 = eval_op(gop, g, {gop.inputs[0]: x}, apply_act=False)[0]
        shifts[corrected] = np.abs((y1 - y0).reshape(-1, y0.shape[-1]).mean(axis=0)).mean()
    assert shifts[True] < 0.2 * shifts[False], shifts


def test_kmeans_1d_is_exact_with_few_values_and_keeps_zero():
    v = np.array([0.5, -1.0, 0.5, 2.0, -1.0])
    cent, idx = kmeans_1d(v, 4)
    np.testing.assert_array_equal(cent[idx], v)
    rng = np.random.default_rng(0)
    w = rng.normal(0, 1, 5000)
    w[rng.random(5000) < 0.4] = 0.0
    cent, idx = kmeans_1d(w, 8, keep_zero=True)
    assert cent.size <= 8 and 0.0 in cent
    assert np.all(cent[idx][w == 0] == 0)
    errs = [np.sqrt(np.mean((kmeans_1d(w, k)[0][kmeans_1d(w, k)[1]] - w) ** 2)) for k in (2, 4, 16, 64)]
    assert all(a > b for a, b in zip(errs, errs[1:])), errs


@pytest.mark.parametrize("n", [4, 16, 256])
def test_clustered_model_has_at_most_n_int8_values_per_layer(n):
    m = convert(DIGITS / "model.onnx", [np.load(DIGITS / "calib.npy")], ConvertOptions(progress=False, cluster=n))
    for op in m.ops:
        if op.type in ("conv2d", "depthwise_conv2d", "fully_connected"):
            w = m.tensors[op.inputs[1]]
            assert np.unique(w.data).size <= n, op.name
            if n <= 16:
                assert w.encoding == "palette" and w.stored_nbytes < w.data.nbytes, op.name


def test_cluster_report_and_range():
    g = float_graph(DIGITS)
    rep = cluster_weights(g, 16)
    assert all(lay.clusters <= 16 and 0 < lay.rms_error < 0.3 for lay in rep.layers)
    with pytest.raises(DataError):
        cluster_weights(g, 1)


def test_cli_report_structured_digits(tmp_path):
    out, rep_path = tmp_path / "p.enn", tmp_path / "report.json"
    r = edgenn("convert", str(DIGITS / "model.onnx"), "--calib", str(DIGITS / "calib.npy"), "-o", str(out),
               "--prune", "structured:0.3", "--eval-data", str(DIGITS / "test_x.npy"),
               "--eval-labels", str(DIGITS / "test_y.npy"), "--report-json", str(rep_path))
    assert r.returncode == 0, r.stderr
    rep = json.loads(rep_path.read_text())
    assert rep["total"]["macs"]["change"] <= -0.25
    assert rep["total"]["flash_bytes"]["change"] <= -0.25
    q = rep["quality"]
    assert q["samples"] == 360 and 0.9 <= q["float_accuracy"] <= 1.0
    # The report says which data it measured on (the refit never saw --eval-data).
    assert q["data"] == f"the 360 samples of --eval-data {DIGITS / 'test_x.npy'}" and q["data"] in r.stderr
    assert q["before"]["accuracy"] >= q["float_accuracy"] - 0.01
    assert q["after"]["accuracy"] >= 0.9  # the accuracy change is reported, and small on digits
    assert "accuracy" in r.stderr and "MACs" in r.stderr
    a = json.loads(edgenn("analyze", str(out), "--json").stdout)
    assert a["macs"] == rep["total"]["macs"]["after"]
    assert a["weights_bytes"] == rep["total"]["weights_bytes"]["after"]
    assert a["arena_bytes"] == rep["total"]["arena_bytes"]["after"]


def test_cli_pruning_errors(tmp_path):
    tfl = next((ROOT / "tests" / "data" / "tflite").glob("*.tflite"))
    out = tmp_path / "x.enn"
    for args in (["convert", str(tfl), "-o", str(out), "--prune", "structured:0.3"],
                 ["convert", str(tfl), "-o", str(out), "--cluster", "16"],
                 ["convert", str(DIGITS / "model.onnx"), "--calib", str(DIGITS / "calib.npy"), "-o", str(out),
                  "--prune", "structured:1.5"],
                 ["convert", str(DIGITS / "model.onnx"), "--calib", str(DIGITS / "calib.npy"), "-o", str(out),
                  "--eval-data", str(DIGITS / "test_x.npy")],
                 ["convert", str(DIGITS / "model.onnx"), "--calib", str(DIGITS / "calib.npy"), "-o", str(out),
                  "--prune", "unstructured:0.5", "--eval-data", str(tmp_path / "missing.npy")],
                 ["analyze", str(tfl), "--sensitivity", "--calib", str(DIGITS / "calib.npy"),
                  "--data", str(DIGITS / "test_x.npy")],
                 ["analyze", str(DIGITS / "model.onnx"), "--sensitivity"]):
        r = edgenn(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
        assert not out.exists()


def test_cli_sensitivity_digits():
    r = edgenn("analyze", str(DIGITS / "model.onnx"), "--sensitivity", "--calib", str(DIGITS / "calib.npy"),
               "--data", str(DIGITS / "test_x.npy"), "--labels", str(DIGITS / "test_y.npy"), "--ratios", "0.3,0.7",
               "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["metric"] == "accuracy" and rep["ratios"] == [0.3, 0.7]
    names = [row["layer"] for row in rep["layers"]]
    assert names[-1] == "all layers" and len(names) >= 3
    for row in rep["layers"]:
        assert [p["ratio"] for p in row["points"]] == [0.3, 0.7]
        assert all(0.0 <= p["accuracy"] <= 1.0 for p in row["points"])
        assert row["points"][1]["macs"] < row["points"][0]["macs"] < rep["baseline"]["macs"]
    assert rep["layers"][-1]["points"][1]["macs"] < min(row["points"][1]["macs"] for row in rep["layers"][:-1])
    r = edgenn("analyze", str(DIGITS / "model.onnx"), "--sensitivity", "unstructured", "--calib",
               str(DIGITS / "calib.npy"), "--data", str(DIGITS / "test_x.npy"), "--ratios", "0.5")
    assert r.returncode == 0, r.stderr
    assert "top1 agreement" in r.stdout and "all layers" in r.stdout


def test_least_squares_refit_keeps_zeros_and_recovers_the_output():
    g0 = float_graph(DSCNN)
    feeds = graph_feeds(g0, [np.load(DSCNN / "calib.npy")])
    test = graph_feeds(g0, [np.load(DSCNN / "test_x.npy")])
    ref = run_graph(g0, test)[g0.output_names[0]]
    err, zeros = {}, {}
    for refit in (False, True):
        g = copy.deepcopy(g0)
        rep = prune_unstructured(g, 0.7, feeds, reconstruct=refit)
        assert any(lay.refit for lay in rep.layers) == refit
        y = run_graph(g, test)[g.output_names[0]]
        err[refit] = float(np.linalg.norm(y - ref) / np.linalg.norm(ref))
        zeros[refit] = [int(np.count_nonzero(g.tensors[op.inputs[1]].data == 0)) for op in weighted_ops(g)]
    assert zeros[True] == zeros[False]  # the refit moves kept weights only
    assert err[True] < 0.5 * err[False], err  # on held-out data, not the calibration set
