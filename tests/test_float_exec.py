"""Float execution of the internal graph (converter/float_exec.py) and calibration on it.

Every internal tensor that holds an ONNX value (``Tensor.origin``) must equal onnxruntime's
value of that origin; calibrate_graph must agree with the onnxruntime calibration, and the
quantizer must accept its name-keyed ranges.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgenn.converter.calibrate import calibrate, calibrate_graph, run_float
from edgenn.converter.float_exec import PREACT_SUFFIX, eval_op, fused_act, graph_feeds, run_graph
from edgenn.converter.graph import Graph, Op
from edgenn.converter.lower import to_enn
from edgenn.converter.onnx_import import OnnxImporter, import_onnx
from edgenn.converter.passes import simplify
from edgenn.converter.quantize import quantize
from edgenn.errors import DataError, EdgennError
from edgenn.runtime_py import dataio
from edgenn.runtime_py.interpreter import Interpreter

from onnx_models import Builder, ds_residual_cnn

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits"
REL_TOL = 1e-4


def _graph(model: onnx.ModelProto) -> Graph:
    g = OnnxImporter(model, "test.onnx").run()
    return simplify(g)


def _digits() -> tuple[Graph, onnx.ModelProto]:
    g, m = import_onnx(DIGITS / "model.onnx")
    return simplify(g), m


def _compare_with_onnx(g: Graph, model: onnx.ModelProto, data: list[np.ndarray], batch: int = 7) -> set[str]:
    """Assert every internal tensor with an ONNX origin matches onnxruntime; returns the op types compared."""
    names = [t.name for t in g.tensors.values() if not t.is_const and t.origin and "#" not in t.origin]
    ours = run_graph(g, graph_feeds(g, data), names, batch=batch)
    src = {io.source_name: dataio.source_batches(a, io.source_shape, "data", io.source_name).astype(np.float32)
           for io, a in zip(g.inputs, data)}
    ref = run_float(model, src, sorted({g.tensors[n].origin for n in names}))
    producers = g.producers()
    covered = set()
    for name in names:
        t = g.tensors[name]
        v = np.stack(ref[t.origin])
        if t.origin_perm:
            v = np.transpose(v, (0,) + tuple(1 + p for p in t.origin_perm))
        v = v.reshape(ours[name].shape)
        span = float(v.max() - v.min()) or max(float(np.abs(v).max()), 1.0)
        err = float(np.abs(ours[name].astype(np.float64) - v).max())
        assert err <= REL_TOL * span, f"{name}: error {err} over range {span}"
        if name in producers:
            covered.add(producers[name].type)
    return covered


# ---------------------------------------------------------------------- models covering the operators

def _conv_zoo() -> onnx.ModelProto:
    """Grouped / dilated / asymmetrically padded / auto_pad convolutions, depthwise with a multiplier,
    leaky relu, hard swish, concat, clip, pools with pads and ceil_mode, both count_include_pad."""
    b = Builder(21)
    r = b.rng
    w1 = b.const(r.normal(0, 0.4, (6, 2, 3, 3)).astype(np.float32))
    h1 = b.node("Conv", ["x", w1, b.const(r.normal(0, 0.1, 6).astype(np.float32))], kernel_shape=[3, 3],
                dilations=[2, 2], pads=[0, 1, 2, 1], group=2)
    h1 = b.node("LeakyRelu", [h1], alpha=0.2)
    w2 = b.const(r.normal(0, 0.4, (8, 6, 3, 3)).astype(np.float32))
    h2 = b.node("HardSwish", [b.node("Conv", [h1, w2], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")])
    w3 = b.const(r.normal(0, 0.4, (8, 6, 4, 4)).astype(np.float32))
    h3 = b.node("LeakyRelu", [b.node("Conv", [h1, w3], kernel_shape=[4, 4], strides=[2, 2], auto_pad="SAME_LOWER")],
                alpha=-0.5)
    cat = b.node("Concat", [h2, h3], axis=1)  # 16 channels
    wd = b.const(r.normal(0, 0.4, (32, 1, 3, 3)).astype(np.float32))
    d = b.node("Conv", [cat, wd, b.const(r.normal(0, 0.1, 32).astype(np.float32))], kernel_shape=[3, 3],
               pads=[1, 1, 1, 1], group=16)
    d = b.node("Clip", [d, b.const(np.float32(-0.5)), b.const(np.float32(1.0))])  # fused into the depthwise
    mp = b.node("MaxPool", [d], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    ap = b.node("AveragePool", [mp], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    ai = b.node("AveragePool", [ap], kernel_shape=[2, 2], strides=[1, 1], pads=[1, 0, 1, 1], count_include_pad=1)
    gm = b.node("GlobalMaxPool", [ai])
    y = b.node("Flatten", [gm], axis=1)
    return b.model([("x", [1, 4, 11, 13])], [y, cat], opset=14)


def _misc_zoo() -> onnx.ModelProto:
    """pad (non-zero value), logistic, tanh, mul of two activations, add of a constant, channel softmax,
    reduce mean without keepdims, a real transpose, matmul, a standalone clip after concat."""
    b = Builder(22)
    r = b.rng
    c = b.conv("x", 3, 5, 3)
    p = b.node("Pad", [c, b.const(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64))], mode="constant")
    pv = b.node("Pad", [c, b.const(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64)), b.const(np.float32(0.75))])
    s = b.node("Sigmoid", [p])
    t = b.node("Tanh", [pv])
    m = b.node("Mul", [s, t])
    a = b.node("Add", [m, b.const(r.normal(0, 0.5, (1, 5, 1, 1)).astype(np.float32))])
    sm = b.node("Softmax", [a], axis=1)
    mean = b.node("ReduceMean", [sm], axes=[2], keepdims=0)  # (1, 5, W)
    tr = b.node("Transpose", [mean], perm=[0, 2, 1])  # (1, W, 5)
    mm = b.node("MatMul", [tr, b.const(r.normal(0, 0.5, (5, 4)).astype(np.float32))])
    cat = b.node("Concat", [mm, b.const(r.normal(0, 0.5, (1, 10, 2)).astype(np.float32))], axis=2)
    y = b.node("Clip", [cat, b.const(np.float32(-0.3)), b.const(np.float32(0.4))])
    return b.model([("x", [1, 3, 6, 7])], [y], opset=14)


def _one_d_and_gemm() -> onnx.ModelProto:
    """1-D convolution and pools (run as 2-D between reshapes), BatchNorm folding, Gemm with a full bias."""
    b = Builder(23)
    r = b.rng
    h = b.node("Conv", ["x", b.const(r.normal(0, 0.4, (6, 3, 5)).astype(np.float32))], kernel_shape=[5],
               strides=[2], pads=[2, 1])
    h = b.node("Relu", [b.bn(h, 6)])
    h = b.node("MaxPool", [h], kernel_shape=[2], strides=[2])
    h = b.node("AveragePool", [h], kernel_shape=[3], strides=[1], pads=[1, 1])
    f = b.node("Flatten", [h], axis=1)
    k = int(6 * 5)
    y = b.node("Gemm", [f, b.const(r.normal(0, 0.3, (k, 4)).astype(np.float32)),
                        b.const(r.normal(0, 0.3, (1, 4)).astype(np.float32))])
    return b.model([("x", [1, 3, 20])], [y])


ZOO = {"conv_zoo": (_conv_zoo, (1, 4, 11, 13)), "misc_zoo": (_misc_zoo, (1, 3, 6, 7)),
       "one_d": (_one_d_and_gemm, (1, 3, 20)), "ds_residual_cnn": (ds_residual_cnn, (1, 3, 16, 16))}


# ---------------------------------------------------------------------- against onnxruntime

def test_digits_matches_onnxruntime():
    g, m = _digits()
    x = np.load(DIGITS / "test_x.npy")
    covered = _compare_with_onnx(g, m, [x], batch=100)
    assert {"conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d", "fully_connected", "softmax"} <= covered


def test_operator_zoo_matches_onnxruntime():
    rng = np.random.default_rng(5)
    covered = set()
    types = set()
    for name, (build, shape) in ZOO.items():
        model = build()
        g = _graph(model)
        types |= {op.type for op in g.ops}
        x = rng.normal(0, 1.5, (9,) + shape[1:]).astype(np.float32)
        covered |= _compare_with_onnx(g, model, [x], batch=4)
    # every operator that can appear in a float ONNX graph ran and was checked against onnxruntime
    want = {"conv2d", "depthwise_conv2d", "fully_connected", "add", "mul", "max_pool2d", "avg_pool2d", "mean",
            "softmax", "logistic", "tanh", "leaky_relu", "hard_swish", "pad", "concat", "reshape", "transpose",
            "clip"}
    assert want <= types, want - types
    assert want <= covered, want - covered


def test_quantize_is_the_identity_in_float():
    g, _ = _digits()
    feeds = graph_feeds(g, [np.load(DIGITS / "test_x.npy")[:5]])
    x = g.input_names[0]
    y = g.add_tensor("requantized", g.tensors[x].shape)
    out = eval_op(Op("quantize", "rq", [x], [y.name]), g, feeds)[0]
    np.testing.assert_array_equal(out, feeds[x])


def test_chunking_does_not_change_results():
    g = _graph(_conv_zoo())
    x = np.random.default_rng(1).normal(size=(10, 4, 11, 13)).astype(np.float32)
    feeds = graph_feeds(g, [x])
    whole = run_graph(g, feeds, batch=256)
    parts = run_graph(g, feeds, batch=3)
    for k in g.output_names:
        assert whole[k].shape == (10,) + g.tensors[k].shape and whole[k].dtype == np.float32
        np.testing.assert_allclose(parts[k], whole[k], rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------- fused activations

def test_eval_op_without_act_differs_exactly_on_clamped_values():
    g = _graph(_conv_zoo())
    x = np.random.default_rng(2).normal(0, 2, (6, 4, 11, 13)).astype(np.float32)
    feeds = graph_feeds(g, [x])
    acted = [op for op in g.ops if fused_act(op) is not None]
    assert any(op.type == "depthwise_conv2d" for op in acted)
    inputs = sorted({t for op in acted for t in op.inputs if t and not g.tensors[t].is_const})
    values = run_graph(g, feeds, [t for t in inputs if t not in g.input_names]) | feeds
    pre_run = run_graph(g, feeds, [], preact=True)
    assert set(pre_run) == {op.name + PREACT_SUFFIX for op in acted}
    for op in acted:
        lo, hi = fused_act(op)
        on = eval_op(op, g, values)[0]
        off = eval_op(op, g, values, apply_act=False)[0]
        np.testing.assert_array_equal(off, pre_run[op.name + PREACT_SUFFIX])
        below = off < lo if lo is not None else np.zeros(off.shape, bool)
        above = off > hi if hi is not None else np.zeros(off.shape, bool)
        clamped = below | above
        assert clamped.any() and (~clamped).any(), op.name  # the data exercises both cases
        np.testing.assert_array_equal(on[~clamped], off[~clamped])
        assert np.all(on[below] == np.float32(lo)) and np.all(on[above] == np.float32(hi))


# ---------------------------------------------------------------------- errors

def test_bad_feeds_and_ops_give_one_line_errors():
    g, _ = _digits()
    with pytest.raises(DataError, match=r"input 'input' needs \(N, 1, 1, 8, 8\)"):
        graph_feeds(g, [np.zeros((4, 8, 8), np.float32)])
    bad = np.zeros((4, 1, 8, 8), np.float32)
    bad[2, 0, 3, 3] = np.nan
    with pytest.raises(DataError, match="NaN or Inf"):
        graph_feeds(g, [bad])
    with pytest.raises(DataError, match="beyond float32"):
        graph_feeds(g, [np.full((2, 1, 8, 8), 1e300)])
    with pytest.raises(DataError, match="1 input"):
        graph_feeds(g, [bad, bad])
    feeds = graph_feeds(g, [np.zeros((2, 1, 8, 8), np.float32)])
    with pytest.raises(EdgennError, match="not an input or an operator output"):
        run_graph(g, feeds, ["nope"])
    op = Op("frobnicate", "my_frob", [g.input_names[0]], [g.ops[0].outputs[0]])
    with pytest.raises(EdgennError, match="frobnicate .my_frob'"):
        eval_op(op, g, feeds)
    g.ops.insert(0, op)
    with pytest.raises(EdgennError, match="does not support operator frobnicate .my_frob'"):
        run_graph(g, feeds)


def test_nan_in_the_graph_names_the_tensor():
    b = Builder(3)
    h = b.node("Mul", ["x", b.const(np.full((1, 2, 1, 1), 1e30, np.float32))])
    y = b.node("Mul", [h, b.const(np.full((1, 2, 1, 1), 1e30, np.float32))])
    g = _graph(b.model([("x", [1, 2, 3, 3])], [y]))
    with pytest.raises(DataError, match=f"NaN or Inf at '{y}'"):
        calibrate_graph(g, [np.ones((3, 2, 3, 3), np.float32)], progress=False)


# ---------------------------------------------------------------------- calibration and quantization

@pytest.mark.parametrize("method", ["minmax", "percentile"])
def test_calibrate_graph_equals_onnx_calibration(method):
    g, m = _digits()
    x = np.load(DIGITS / "calib.npy")
    by_origin = calibrate(m, g, [x], progress=False, method=method)
    by_name = calibrate_graph(g, [x], progress=False, method=method)
    assert set(by_name) == set(g.input_names) | {t for op in g.ops for t in op.outputs}
    compared = 0
    for name, (lo, hi) in by_name.items():
        origin = g.tensors[name].origin
        if origin not in by_origin:
            continue
        rlo, rhi = by_origin[origin]
        tol = 1e-5 * max(rhi - rlo, 1e-12)
        assert abs(lo - rlo) <= tol and abs(hi - rhi) <= tol, (name, (lo, hi), (rlo, rhi))
        compared += 1
    assert compared == len(by_name) - 1  # all but the NHWC-flattened tensor, which has no ONNX value


def _enn(g: Graph):
    return to_enn(g, "digits", {})


def _same_enn(a, b) -> None:
    assert [t.name for t in a.tensors] == [t.name for t in b.tensors]
    for ta, tb in zip(a.tensors, b.tensors):
        assert np.array_equal(ta.scale, tb.scale) and np.array_equal(ta.zero_point, tb.zero_point), ta.name
        assert (ta.data is None) == (tb.data is None)
        if ta.data is not None:
            assert ta.data.dtype == tb.data.dtype and np.array_equal(ta.data, tb.data), ta.name
    assert [(o.type, o.name) for o in a.ops] == [(o.type, o.name) for o in b.ops]
    for oa, ob in zip(a.ops, b.ops):
        assert oa.options.keys() == ob.options.keys()
        for k in oa.options:
            assert np.array_equal(np.asarray(oa.options[k]), np.asarray(ob.options[k])), (oa.name, k)


def test_quantize_by_name_gives_the_same_model():
    """The same ranges keyed by origin or by internal name give byte-identical .enn models."""
    x = np.load(DIGITS / "calib.npy")
    g1, m = _digits()
    ranges = calibrate(m, g1, [x], progress=False)
    g2, _ = _digits()
    named = {t.name: ranges[t.origin] for t in g2.tensors.values() if t.origin in ranges}
    _same_enn(_enn(quantize(g1, ranges)), _enn(quantize(g2, named, by_name=True)))


def test_quantize_with_calibrate_graph_ranges_matches_the_onnx_path_and_runs():
    """onnxruntime and numpy round float32 sums differently, so scales may differ in the last float32
    bits (and the multipliers derived from them); everything else is identical and the outputs agree."""
    x = np.load(DIGITS / "calib.npy")
    test_x = np.load(DIGITS / "test_x.npy")
    g1, m = _digits()
    e1 = _enn(quantize(g1, calibrate(m, g1, [x], progress=False)))
    g2, _ = _digits()
    e2 = _enn(quantize(g2, calibrate_graph(g2, [x], progress=False), by_name=True))
    assert [t.name for t in e1.tensors] == [t.name for t in e2.tensors]
    assert [(o.type, o.name, o.inputs, o.outputs) for o in e1.ops] == [(o.type, o.name, o.inputs, o.outputs)
                                                                        for o in e2.ops]
    for ta, tb in zip(e1.tensors, e2.tensors):
        np.testing.assert_allclose(tb.scale, ta.scale, rtol=1e-5, err_msg=ta.name)
        assert np.array_equal(ta.zero_point, tb.zero_point), ta.name
        if ta.data is not None:
            assert ta.data.dtype == tb.data.dtype and np.abs(ta.data.astype(np.int64) - tb.data).max() <= 1, ta.name
    for oa, ob in zip(e1.ops, e2.ops):
        for k, va in oa.options.items():
            va, vb = np.asarray(va), np.asarray(ob.options[k])
            if "multiplier" in k:
                np.testing.assert_allclose(vb, va, rtol=1e-5, err_msg=f"{oa.name} {k}")
            else:
                assert np.array_equal(va, vb), (oa.name, k)
    y1, y2 = (Interpreter(e).invoke(*dataio.to_internal(e, [test_x]))[0] for e in (e1, e2))
    assert y2.shape == (len(test_x), 1, 10)
    assert np.abs(y1.astype(np.int64) - y2).max() <= 1
    assert np.mean(y1 == y2) > 0.99
