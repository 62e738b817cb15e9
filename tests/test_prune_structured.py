"""Structured pruning of the float graph: channel analysis, exact rewriting, saliency, recovery."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from edgenn.converter.float_exec import graph_feeds, run_graph
from edgenn.converter.graph import QParams
from edgenn.converter.onnx_import import import_onnx
from edgenn.converter.passes import simplify
from edgenn.converter.shrink.structured import graph_macs, prunable_layers, prune_structured
from edgenn.errors import DataError

from onnx_models import ds_residual_cnn
from prune_models import (MODELS, GraphBuilder, concat_channels, ds_cnn, flatten_head, masked_run, random_feeds,
                          removed_by_tensor, residual)

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "examples" / "digits"


def _op(g, name):
    return next(op for op in g.ops if op.name == name)


def _dense(g):
    return [op for op in g.ops if op.type in ("conv2d", "fully_connected")]


def _kept_rows(w0: np.ndarray, w: np.ndarray) -> list[int]:
    """Which rows of the original weights survive (rows are unique random vectors)."""
    return [int(np.flatnonzero(np.all(w0 == row, axis=tuple(range(1, w0.ndim))))[0]) for row in w]


def _digits():
    g, _ = import_onnx(DIGITS / "model.onnx")
    return simplify(g)


# ---------------------------------------------------------------------- rewriting is exact

@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("ratio", [0.3, 0.6])
def test_plain_removal_equals_zeroing_the_channels(model, ratio):
    """Without recovery, the pruned graph computes on every kept channel of every tensor exactly
    what the original computes with the removed channels zeroed: the rewrite loses nothing else."""
    g = MODELS[model]()
    g0 = copy.deepcopy(g)
    feeds = random_feeds(g, 6)
    rep = prune_structured(g, ratio)
    assert any(b > a for b, a in rep.channels.values())
    removed = removed_by_tensor(g0, rep)
    ref = masked_run(g0, removed, feeds)
    got = run_graph(g, feeds, wanted=[t for op in g.ops for t in op.outputs])
    for name, v in got.items():
        keep = [c for c in range(g0.tensors[name].shape[-1]) if c not in removed.get(name, ())]
        assert v.shape[1:] == g.tensors[name].shape
        np.testing.assert_allclose(v, ref[name][..., keep], rtol=1e-5, atol=1e-5, err_msg=name)
    for name in removed:
        assert g.tensors[name].origin is None and g.tensors[name].origin_perm is None
    assert rep.macs_after < rep.macs_before and rep.weight_bytes_after < rep.weight_bytes_before
    assert graph_macs(g) == rep.macs_after


@pytest.mark.parametrize("ratio", [0.25, 0.3, 0.5, 0.9])
def test_each_group_loses_round_ratio_of_its_channels(ratio):
    g = ds_cnn()
    sizes = {op.name: g.tensors[op.outputs[0]].shape[-1] for op in _dense(g)}
    rep = prune_structured(g, ratio)
    convs = [op.name for op in _dense(g) if op.type == "conv2d"]
    for name in convs:  # every conv is its own group here
        n = sizes[name]
        assert rep.channels[name] == (n, n - min(round(ratio * n), n - 1))
        assert len(rep.removed[name]) == min(round(ratio * n), n - 1)
    fc = next(op.name for op in _dense(g) if op.type == "fully_connected")
    assert rep.channels[fc] == (5, 5)  # feeds the softmax output
    for i, op in enumerate(g.ops):  # a depthwise conv loses the channels of the pointwise conv before it
        if op.type == "depthwise_conv2d":
            kept = rep.channels[g.ops[i - 1].name][1]
            assert g.tensors[op.inputs[1]].shape == (1, 3, 3, kept) and g.tensors[op.inputs[2]].shape == (kept,)
            assert g.tensors[g.ops[i + 1].inputs[1]].shape[-1] == kept
    run_graph(g, random_feeds(g, 2))


def test_ratio_zero_changes_nothing():
    g = ds_cnn()
    g0 = copy.deepcopy(g)
    rep = prune_structured(g, 0.0, random_feeds(g, 8), saliency="activation")
    assert all(b == a for b, a in rep.channels.values()) and not rep.recovery
    assert [(op.name, op.inputs, op.outputs, op.attrs) for op in g.ops] == \
           [(op.name, op.inputs, op.outputs, op.attrs) for op in g0.ops]
    for name, t in g0.tensors.items():
        t2 = g.tensors[name]
        assert (t2.shape, t2.origin, t2.origin_perm) == (t.shape, t.origin, t.origin_perm)
        if t.data is not None:
            assert np.array_equal(t2.data, t.data)
    assert rep.macs_after == rep.macs_before


def test_residual_add_producers_lose_the_same_channels():
    g = residual()
    g0 = copy.deepcopy(g)
    a, bconv, c = [op.name for op in g.ops if op.type == "conv2d"]
    rep = prune_structured(g, 0.3)
    assert rep.removed[a] == rep.removed[bconv] and len(rep.removed[a]) == round(0.3 * 8)
    survivors = [i for i in range(8) if i not in rep.removed[a]]
    for name, cols in ((a, slice(None)), (bconv, survivors)):  # B also reads A: its columns go too
        w0 = g0.tensors[_op(g0, name).inputs[1]].data[..., cols]
        assert _kept_rows(w0, g.tensors[_op(g, name).inputs[1]].data) == survivors
    add = next(op for op in g.ops if op.type == "add")
    assert {g.tensors[t].shape[-1] for t in add.inputs + add.outputs} == {8 - 2}
    # conv B reads A, conv C reads the sum: both lose input columns
    assert g.tensors[_op(g, bconv).inputs[1]].shape[-1] == 6 and g.tensors[_op(g, c).inputs[1]].shape[-1] == 6
    assert prunable_layers(g0) == [a, bconv, c]


def test_concat_on_channels_prunes_each_input_group():
    g = concat_channels()
    a, bconv, c = [op.name for op in g.ops if op.type == "conv2d"]
    rep = prune_structured(g, 0.3)
    assert rep.channels[a] == (8, 6) and rep.channels[bconv] == (12, 8)
    cat = next(op for op in g.ops if op.type == "concat")
    assert g.tensors[cat.outputs[0]].shape[-1] == 14
    assert g.tensors[_op(g, c).inputs[1]].shape == (10 - 3, 3, 3, 14)


def test_concat_on_another_axis_ties_both_inputs():
    g = MODELS["concat_spatial"]()
    a, bconv = [op.name for op in g.ops if op.type == "conv2d"]
    rep = prune_structured(g, 0.3)
    assert rep.removed[a] == rep.removed[bconv] and len(rep.removed[a]) == 3


def test_flatten_gemm_head_loses_every_feature_of_a_removed_channel():
    g = flatten_head()
    g0 = copy.deepcopy(g)
    conv = next(op for op in g.ops if op.type == "conv2d")
    fc = next(op for op in g.ops if op.type == "fully_connected")
    rep = prune_structured(g, 0.5)
    gone = set(rep.removed[conv.name])
    assert len(gone) == 3
    keep = [f for f in range(54) if f % 6 not in gone]  # a 3x3 map of 6 channels, NHWC flattened
    np.testing.assert_array_equal(g.tensors[fc.inputs[1]].data, g0.tensors[fc.inputs[1]].data[:, keep])
    assert g.tensors[fc.inputs[0]].shape == (1, 27)


# ---------------------------------------------------------------------- blocking

def _blocked_after(kind: str):
    """conv A followed by an operator that must block A's channels, then conv B."""
    b = GraphBuilder(7)
    x = b.input((1, 6, 6, 4))
    a = b.conv(x, 8)
    if kind == "grouped_conv":
        h = b.conv(a, 8, groups=2)
    elif kind == "depthwise_multiplier_2":
        h = b.dw(a, mult=2)
    elif kind == "softmax":
        h = b.unary("softmax", a, beta=1.0)
    elif kind == "transpose_moving_channels":
        h = b.transpose(b.transpose(a, (0, 3, 1, 2)), (0, 2, 3, 1))
    elif kind == "pad_on_channels":
        h = b.pad(a, [(0, 0), (0, 0), (0, 0), (1, 1)])
    elif kind == "graph_output":
        b.output(a)
        h = a
    elif kind == "reshape_splitting_channels":
        h = b.reshape(b.reshape(a, (1, 6, 6, 4, 2)), (1, 6, 6, 8))
    elif kind == "mean_over_channels":
        h = b.mean(a, axes=(3,))
    h = b.conv(h, 5)
    b.output(b.fc(b.flatten(h), 2))
    return b.g


@pytest.mark.parametrize("kind", ["grouped_conv", "depthwise_multiplier_2", "softmax", "transpose_moving_channels",
                                  "pad_on_channels", "graph_output", "reshape_splitting_channels",
                                  "mean_over_channels"])
def test_channel_mixing_operators_block_pruning(kind):
    g = _blocked_after(kind)
    a = g.ops[0]
    assert a.name not in prunable_layers(g)
    w0 = g.tensors[a.inputs[1]].data.copy()
    rep = prune_structured(g, 0.5)
    assert rep.channels[a.name] == (8, 8) and np.array_equal(g.tensors[a.inputs[1]].data, w0)
    assert rep.channels[g.ops[-1].name][0] == rep.channels[g.ops[-1].name][1]  # the graph output's producer
    run_graph(g, random_feeds(g, 2))


def test_depthwise_multiplier_blocks_the_residual_group_of_an_onnx_model(tmp_path):
    """ONNX import path: the residual group feeds a depthwise conv with multiplier 2, so only the
    last pointwise conv (before GAP -> Gemm -> Softmax) is prunable."""
    p = tmp_path / "m.onnx"
    onnx.save(ds_residual_cnn(), p)
    g, _ = import_onnx(p)
    simplify(g)
    names = prunable_layers(g)
    assert len(names) == 1 and _op(g, names[0]).type == "conv2d"
    assert g.tensors[_op(g, names[0]).outputs[0]].shape[-1] == 24
    rep = prune_structured(g, 0.3, graph_feeds(g, [np.random.default_rng(0).normal(size=(16, 1, 3, 16, 16))]))
    assert rep.channels[names[0]] == (24, 17)
    assert [r.method for r in rep.recovery.values()] and set(rep.recovery) == {
        op.name for op in g.ops if op.type == "fully_connected"}


# ---------------------------------------------------------------------- saliency

def _two_layer(co: int = 8):
    b = GraphBuilder(8)
    x = b.input((1, 5, 5, 3))
    b.output(b.fc(b.flatten(b.conv(x, co)), 2))
    return b.g


def test_l1_and_l2_remove_the_weakest_rows():
    for kind, norm in (("l1", lambda r: np.abs(r).sum()), ("l2", lambda r: np.sqrt((r * r).sum()))):
        g = _two_layer()
        conv = g.ops[0]
        w = g.tensors[conv.inputs[1]].data
        w *= np.array([3, 0.1, 2, 0.2, 1, 5, 0.3, 4], np.float32).reshape(-1, 1, 1, 1)
        rep = prune_structured(g, 0.3, saliency=kind)
        expect = sorted(np.argsort([norm(r) for r in w])[:2].tolist())
        assert rep.removed[conv.name] == expect == [1, 3]


def test_tied_producers_weigh_equally():
    """A residual group whose producers differ 10000x in scale: each producer's norms are divided by
    its own mean, so the small producer still has its say."""
    g = residual()
    a, bconv = [op for op in g.ops if op.type == "conv2d"][:2]
    wa, wb = g.tensors[a.inputs[1]].data, g.tensors[bconv.inputs[1]].data
    wa[:] = np.sign(wa) * np.array([0.99, 0.99, 1, 1, 1, 1, 1, 1], np.float32).reshape(-1, 1, 1, 1)
    wb[:] = np.sign(wb) * 1e-4 * np.array([5, 5, 5, 0.1, 0.1, 5, 5, 5], np.float32).reshape(-1, 1, 1, 1)
    rep = prune_structured(g, 0.25)
    assert rep.removed[a.name] == [3, 4]  # chosen by B alone; raw norm sums would follow A: [0, 1]


def test_activation_saliency_finds_dead_channels():
    """Channel 0 has the largest weights but a bias that keeps it below zero (dead after ReLU)."""
    g = _two_layer()
    conv = g.ops[0]
    g.tensors[conv.inputs[1]].data[0] *= 10
    g.tensors[conv.inputs[2]].data[0] = -1e4
    feeds = random_feeds(g, 32)
    by_act = prune_structured(copy.deepcopy(g), 0.125, feeds, saliency="activation", reconstruct=False)
    by_l1 = prune_structured(copy.deepcopy(g), 0.125, feeds, saliency="l1", reconstruct=False)
    assert by_act.removed[conv.name] == [0] and by_l1.removed[conv.name] != [0]


def test_only_restricts_pruning_to_named_producers():
    g = concat_channels()
    a, bconv, c = [op.name for op in g.ops if op.type == "conv2d"]
    assert prunable_layers(g) == [a, bconv, c]
    rep = prune_structured(g, 0.5, only={bconv})
    assert rep.channels[a] == (8, 8) and rep.channels[bconv] == (12, 6) and rep.channels[c] == (10, 10)


# ---------------------------------------------------------------------- recovery

def test_least_squares_recovery_lowers_the_held_out_error():
    g0 = _digits()
    calib = np.load(DIGITS / "calib.npy")
    test = graph_feeds(g0, [np.load(DIGITS / "test_x.npy")], "test data")
    fc = next(op for op in g0.ops if op.type == "fully_connected")
    ref = run_graph(g0, test, wanted=[fc.outputs[0]])[fc.outputs[0]]
    errs = {}
    for reconstruct in (False, True):
        g = copy.deepcopy(g0)
        rep = prune_structured(g, 0.3, graph_feeds(g, [calib]), reconstruct=reconstruct)
        out = run_graph(g, test, wanted=[fc.outputs[0]])[fc.outputs[0]]
        errs[reconstruct] = np.linalg.norm(out - ref) / np.linalg.norm(ref)
        for r in rep.recovery.values():
            assert r.error_after <= r.error_before
            assert r.method == ("none" if not reconstruct else r.method)
    methods = {r.method for r in rep.recovery.values()}
    assert "least_squares" in methods and len(rep.recovery) == 3
    assert errs[True] < 0.6 * errs[False]


@pytest.mark.parametrize("model", sorted(MODELS))
def test_recovery_never_raises_the_error_it_reports(model):
    g = MODELS[model]()
    g0 = copy.deepcopy(g)
    rep = prune_structured(g, 0.4, random_feeds(g, 24, seed=1), saliency="activation")
    assert rep.recovery
    expected = {op.name for op in g0.ops if op.type in ("conv2d", "fully_connected") and
                any(t in removed_by_tensor(g0, rep) for t in op.inputs[:1])}
    assert set(rep.recovery) == expected
    for r in rep.recovery.values():
        assert r.method in ("least_squares", "bias_correction", "none")
        assert 0.0 <= r.error_after <= r.error_before
    run_graph(g, random_feeds(g, 3, seed=2))


def test_recovery_adds_a_bias_when_the_consumer_had_none():
    b = GraphBuilder(9)
    x = b.input((1, 6, 6, 3))
    h = b.conv(x, 10, act=(0.0, None))
    b.g.tensors[b.g.ops[0].inputs[2]].data += 1.0  # positive means: removing channels shifts the output
    b.output(b.conv(h, 4, 1, bias=False, act=(None, None)))
    g = b.g
    rep = prune_structured(g, 0.3, random_feeds(g, 40))
    consumer = g.ops[-1]
    assert rep.recovery[consumer.name].method in ("least_squares", "bias_correction")
    assert len(consumer.inputs) == 3 and g.tensors[consumer.inputs[2]].shape == (4,)
    assert rep.recovery[consumer.name].error_after < rep.recovery[consumer.name].error_before
    run_graph(g, random_feeds(g, 2))


def test_bias_correction_adds_the_mean_contribution_of_the_removed_inputs(monkeypatch):
    import edgenn.converter.shrink.structured as prune

    monkeypatch.setattr(prune, "LS_MAX_DIM", 0)  # too big for least squares: bias correction only
    b = GraphBuilder(10)
    x = b.input((1, 6, 6, 3))
    h = b.conv(x, 10, act=(0.0, None))
    b.g.tensors[b.g.ops[0].inputs[2]].data += 1.0
    b.output(b.conv(h, 4, 3, act=(None, None)))
    g = b.g
    g0 = copy.deepcopy(g)
    feeds = random_feeds(g, 40)
    rep = prune_structured(g, 0.3, feeds)
    consumer = g.ops[-1]
    assert rep.recovery[consumer.name].method == "bias_correction"
    assert rep.recovery[consumer.name].error_after < rep.recovery[consumer.name].error_before
    gone = rep.removed[g.ops[0].name]
    h_mean = run_graph(g0, feeds, wanted=[h])[h].reshape(-1, 10).astype(np.float64).mean(axis=0)
    w0 = g0.tensors[consumer.inputs[1]].data.astype(np.float64)
    b0 = g0.tensors[_op(g0, consumer.name).inputs[2]].data
    expect = b0 + (w0[..., gone].sum(axis=(1, 2)) * h_mean[gone]).sum(axis=1)
    np.testing.assert_allclose(g.tensors[consumer.inputs[2]].data, expect, rtol=1e-5)


def test_without_feeds_consumers_are_only_sliced():
    g = residual()
    rep = prune_structured(g, 0.3)
    assert rep.recovery and all(r.method == "none" and r.error_before is None for r in rep.recovery.values())


# ---------------------------------------------------------------------- end to end

def test_pruned_digits_quantizes_and_converts():
    from edgenn.converter import calibrate as cal

    if not hasattr(cal, "calibrate_graph"):
        pytest.skip("calibrate.calibrate_graph (calibration of the graph itself) is not available yet")
    from edgenn.converter.lower import to_enn
    from edgenn.converter.quantize import quantize
    from edgenn.runtime_py import dataio
    from edgenn.runtime_py.interpreter import Interpreter

    calib = np.load(DIGITS / "calib.npy")
    test_x, test_y = np.load(DIGITS / "test_x.npy"), np.load(DIGITS / "test_y.npy")
    models, float_acc = {}, {}
    for ratio in (0.0, 0.3):
        g = _digits()
        prune_structured(g, ratio, graph_feeds(g, [calib]))
        probs = next(iter(run_graph(g, graph_feeds(g, [test_x], "test data")).values()))
        float_acc[ratio] = float((probs.reshape(len(test_y), -1).argmax(1) == test_y).mean())
        quantize(g, cal.calibrate_graph(g, [calib], progress=False), by_name=True)
        models[ratio] = to_enn(g, f"digits{int(ratio * 10)}")
    m = models[0.3]
    qx = dataio.to_internal(m, [test_x], "test data")
    out = Interpreter(m).invoke(*qx)[0]
    int8_acc = float((out.reshape(len(test_y), -1).argmax(1) == test_y).mean())
    assert int8_acc >= float_acc[0.3] - 0.03 and float_acc[0.3] >= 0.9

    def weight_bytes(model):
        return sum(t.data.nbytes for t in model.tensors if t.is_const)
    assert weight_bytes(m) <= 0.75 * weight_bytes(models[0.0])


def test_the_dscnn_example_shrinks_by_a_quarter():
    path = ROOT / "examples" / "dscnn" / "model.onnx"
    if not path.exists():
        pytest.skip("examples/dscnn is not in this checkout")
    g, _ = import_onnx(path)
    simplify(g)
    rep = prune_structured(g, 0.3, graph_feeds(g, [np.load(path.parent / "calib.npy")[:64]]))
    assert rep.macs_after <= 0.75 * rep.macs_before
    assert rep.weight_bytes_after <= 0.75 * rep.weight_bytes_before
    assert all(r.error_after <= r.error_before for r in rep.recovery.values())


# ---------------------------------------------------------------------- errors and report

def test_bad_arguments_are_data_errors():
    g = flatten_head()
    feeds = random_feeds(g, 4)
    with pytest.raises(DataError, match="needs calibration data"):
        prune_structured(g, 0.3, saliency="activation")
    for bad in (-0.1, 1.0, float("nan"), "a lot"):
        with pytest.raises(DataError, match="ratio"):
            prune_structured(g, bad)
    with pytest.raises(DataError, match="unknown pruning saliency"):
        prune_structured(g, 0.3, saliency="taylor")
    with pytest.raises(DataError, match="no layer named"):
        prune_structured(g, 0.3, only={"nope"})
    bad = {k: v.copy() for k, v in feeds.items()}
    next(iter(bad.values()))[0, 0, 0, 0, 0] = np.nan
    with pytest.raises(DataError, match="NaN"):
        prune_structured(g, 0.3, bad)
    with pytest.raises(DataError, match="shape"):
        prune_structured(g, 0.3, {k: v[:, :, :3] for k, v in feeds.items()})
    w = g.tensors[g.ops[0].inputs[1]]
    w.data[0, 0, 0, 0] = np.inf
    with pytest.raises(DataError, match="NaN or Inf"):
        prune_structured(g, 0.3)
    w.data[0, 0, 0, 0] = 0.0
    w.quant = QParams.per_tensor(0.1, 0)
    with pytest.raises(DataError, match="already quantized"):
        prune_structured(g, 0.3)


def test_report_summary_and_json():
    g = residual()
    rep = prune_structured(g, 0.3, random_feeds(g, 16))
    d = json.loads(json.dumps(rep.to_dict()))
    a = g.ops[0].name
    assert d["channels"][a] == {"before": 8, "after": 6} and d["macs"]["after"] < d["macs"]["before"]
    assert set(d["recovery"]) == {op.name for op in g.ops[1:] if op.type in ("conv2d", "fully_connected")}
    text = rep.summary()
    assert a in text and "8 -> 6" in text and "MACs" in text
