"""ONNX reductions, arg-max, normalizations and running sums with the attribute variants exporters
emit (axes as attribute or input, keepdims, noop_with_empty_axes, negative axes, select_last_index,
exclusive / reverse, LpNormalization's axis, LRN): each small model converts, runs bit-exact in host
C (== the Python reference, byte for byte) and matches onnxruntime (exactly for ArgMax / ArgMin on
the quantized input; within quantization steps for the others). Axes of 4-D tensors are checked in
NHWC storage (the input also feeds a Conv), so they pass through the stored layout."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgenn.converter.calibrate import run_float
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.converter.tflite_import import convert_tflite_bytes
from edgenn.errors import UnsupportedOpError
from edgenn.runtime_py import dataio
from edgenn.runtime_py.interpreter import Interpreter
from edgenn.validate import validate

from onnx_models import Builder, model_of

X4 = [1, 6, 5, 7]  # N, C, H, W


def _convert(tmp_path: Path, model: onnx.ModelProto, data: list[np.ndarray]):
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    m = convert(p, data, ConvertOptions(progress=False))
    rep = validate(p, m, data, None, ["python", "host"], progress=False)
    assert rep["backends"]["host"]["mismatched_bytes"] == 0
    return m


def _exact_data(m, data: list[np.ndarray]) -> list[np.ndarray]:
    """The data rounded to the model's input quantization (onnxruntime then sees the int8 values)."""
    res = []
    for d, a in zip(m.inputs, data):
        t = m.tensors[d.tensor]
        res.append(dataio.dequantize(dataio.quantize(a, t), t))
    return res


def _outputs(m, model: onnx.ModelProto, data: list[np.ndarray]):
    """(edgenn's outputs, raw or dequantized, and onnxruntime's) in the source layout."""
    ours = dataio.from_internal(m, Interpreter(m).invoke(*dataio.to_internal(m, data)), True, raw_unquantized=True)
    feeds = {d.source_name: dataio.source_batches(a, tuple(d.source_shape), "data", d.source_name)
             for d, a in zip(m.inputs, data)}
    ref = run_float(model, feeds, [d.source_name for d in m.outputs])
    return ours, [np.stack(ref[d.source_name]).reshape(y.shape) for d, y in zip(m.outputs, ours)]


def _within(m, ours, ref, steps: float) -> None:
    for d, y, r in zip(m.outputs, ours, ref):
        t = m.tensors[d.tensor]
        s, z = float(t.scale[0]), int(t.zero_point[0])
        err = np.abs(y - np.clip(r, (-128 - z) * s, (127 - z) * s)) / s
        assert err.max() <= steps, f"{d.source_name}: {err.max():.2f} steps from onnxruntime"


def _with_conv(b: Builder, x: str) -> str:
    """A Conv beside the node under test makes the 4-D input stored NHWC."""
    return b.conv(x, X4[1], 4)


def _indices_model(b: Builder, inputs, outputs: list[str], opset: int) -> onnx.ModelProto:
    """Builder.model with output 0 declared int64 (indices)."""
    g = helper.make_graph(b.nodes, "test", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(o, TensorProto.INT64 if k == 0 else TensorProto.FLOAT, None)
                           for k, o in enumerate(outputs)], b.inits)
    return model_of(g, opset)


def _data(shape, n: int = 48, seed: int = 0) -> list[np.ndarray]:
    return [np.random.default_rng(seed).normal(0, 1, (n,) + tuple(shape)).astype(np.float32)]


# ------------------------------------------------------------------------------ ReduceMax / Min / Sum / Mean

REDUCE_VARIANTS = [
    # op, opset, axes (None: absent), axes as input, keepdims, noop_with_empty_axes
    ("ReduceMax", 13, [1], False, 1, None),
    ("ReduceMax", 13, [2, 3], False, 0, None),
    ("ReduceMax", 18, [-1], True, 1, None),
    ("ReduceMax", 18, None, False, 0, None),  # all axes
    ("ReduceMin", 13, [1, 3], False, 1, None),
    ("ReduceMin", 18, [0, 2], True, 0, None),
    ("ReduceMin", 18, [], True, 1, 1),  # noop: the identity
    ("ReduceSum", 11, [1], False, 1, None),
    ("ReduceSum", 13, [2, 3], True, 0, None),
    ("ReduceSum", 13, [-3], True, 1, None),
    ("ReduceSum", 13, None, False, 1, None),
    ("ReduceSum", 13, [], True, 0, 1),
    ("ReduceMean", 18, [1], True, 0, None),
    ("ReduceMean", 13, [-1, -2], False, 1, None),
]


@pytest.mark.parametrize("op, opset, axes, as_input, keep, noop", REDUCE_VARIANTS)
def test_onnx_reduce(tmp_path, op, opset, axes, as_input, keep, noop):
    b = Builder(41)
    ins, attrs = ["x"], {"keepdims": keep}
    if noop is not None:
        attrs["noop_with_empty_axes"] = noop
    if axes is not None:
        if as_input:
            ins.append(b.const(np.asarray(axes, np.int64), "axes"))
        else:
            attrs["axes"] = axes
    y = b.node(op, ins, **attrs)
    m = _convert(tmp_path, b.model([("x", X4)], [y, _with_conv(b, "x")], opset), _data(X4))
    want = {"ReduceMax": "reduce_max_min", "ReduceMin": "reduce_max_min", "ReduceSum": "mean", "ReduceMean": "mean"}
    if noop:
        assert want[op] not in [o.type for o in m.ops]
    else:
        assert want[op] in [o.type for o in m.ops]
    data = _exact_data(m, _data(X4, seed=1))
    ours, ref = _outputs(m, b.model([("x", X4)], [y, b.nodes[-1].output[0]], opset), data)
    if op in ("ReduceMax", "ReduceMin"):  # the same bytes as the input's: exact
        assert np.array_equal(ours[0], ref[0].astype(np.float32)), op
    _within(m, ours[:1], ref[:1], 1.0)


def test_onnx_reduce_on_3d(tmp_path):
    b = Builder(42)
    ys = [b.node("ReduceSum", ["x", b.const(np.asarray([1], np.int64))], keepdims=0),
          b.node("ReduceMax", ["x"], axes=[2], keepdims=1), b.node("ReduceMin", ["x"], axes=[0, 1], keepdims=0)]
    model = b.model([("x", [2, 9, 5])], ys)
    m = _convert(tmp_path, model, _data([2, 9, 5]))
    ours, ref = _outputs(m, model, _exact_data(m, _data([2, 9, 5], seed=3)))
    _within(m, ours, ref, 1.0)


# ------------------------------------------------------------------------------ ArgMax / ArgMin

ARG_VARIANTS = [  # op, axis, keepdims, select_last_index, opset
    ("ArgMax", 1, 1, 0, 13), ("ArgMax", 1, 0, 1, 13), ("ArgMax", -1, 0, 0, 13), ("ArgMax", 2, 1, 1, 12),
    ("ArgMin", 1, 0, 0, 13), ("ArgMin", 3, 1, 1, 13), ("ArgMin", 0, 0, 0, 11), ("ArgMax", -2, 1, 0, 18),
]


@pytest.mark.parametrize("op, axis, keep, last, opset", ARG_VARIANTS)
def test_onnx_arg_min_max_is_exact_on_the_quantized_input(tmp_path, op, axis, keep, last, opset):
    b = Builder(43)
    attrs = {"axis": axis, "keepdims": keep}
    if opset >= 12:
        attrs["select_last_index"] = last
    y = b.node(op, ["x"], **attrs)
    model = _indices_model(b, [("x", X4)], [y, _with_conv(b, "x")], opset)
    m = _convert(tmp_path, model, _data(X4))
    assert m.tensors[m.outputs[0].tensor].dtype == "int64"
    # Few distinct values: many ties, decided by select_last_index as onnxruntime decides them.
    data = [np.round(_data(X4, seed=5)[0] * 2) / 2]
    ours, ref = _outputs(m, model, _exact_data(m, data))
    assert ours[0].dtype == np.int64
    assert np.array_equal(ours[0], ref[0]), f"{op} {attrs}"


# ------------------------------------------------------------------------------ CumSum

@pytest.mark.parametrize("axis, exclusive, reverse", [(1, 0, 0), (-1, 1, 0), (2, 0, 1), (3, 1, 1), (0, 0, 0)])
def test_onnx_cumsum(tmp_path, axis, exclusive, reverse):
    b = Builder(44)
    y = b.node("CumSum", ["x", b.const(np.asarray(axis, np.int32), "axis")], exclusive=exclusive, reverse=reverse)
    model = b.model([("x", X4)], [y, _with_conv(b, "x")], 14)
    m = _convert(tmp_path, model, _data(X4))
    assert "cumsum" in [o.type for o in m.ops]
    ours, ref = _outputs(m, model, _exact_data(m, _data(X4, seed=2)))
    _within(m, ours[:1], ref[:1], 1.0)


# ------------------------------------------------------------------------------ LpNormalization, LRN

@pytest.mark.parametrize("shape, axis", [(X4, 1), ([3, 20], -1), ([2, 5, 8], 1), (X4, 3)])
def test_onnx_lp_normalization(tmp_path, shape, axis):
    b = Builder(45)
    y = b.node("LpNormalization", ["x"], axis=axis, p=2)
    outs = [y, _with_conv(b, "x")] if len(shape) == 4 else [y]
    model = b.model([("x", shape)], outs)
    m = _convert(tmp_path, model, _data(shape))
    op = next(o for o in m.ops if o.type == "l2_normalization")
    assert m.tensors[op.outputs[0]].scale[0] == np.float32(1 / 128)
    ours, ref = _outputs(m, model, _exact_data(m, _data(shape, seed=4)))
    _within(m, ours[:1], ref[:1], 1.0)


def test_onnx_lp_normalization_p1_is_refused(tmp_path):
    b = Builder(46)
    model = b.model([("x", [2, 8])], [b.node("LpNormalization", ["x"], axis=1, p=1)])
    with pytest.raises(UnsupportedOpError, match="p=1"):
        _convert(tmp_path, model, _data([2, 8]))


@pytest.mark.parametrize("size, alpha, beta, bias", [(5, 1e-4, 0.75, 2.0), (5, 2e-5, 0.75, 1.0), (3, 1e-3, 0.75, 1.0),
                                                    (7, 5e-3, 0.5, 1.0)])
def test_onnx_lrn_is_within_one_step_of_onnxruntime(tmp_path, size, alpha, beta, bias):
    """LRN straight on the (quantized) input, on AlexNet-like post-ReLU activations (0..50)."""
    b = Builder(47)
    shape = [1, 16, 4, 4]
    y = b.node("LRN", ["x"], size=size, alpha=alpha, beta=beta, bias=bias)
    model = b.model([("x", shape)], [y])
    data = [np.abs(np.random.default_rng(6).normal(0, 15, (64,) + tuple(shape[1:]))).astype(np.float32)]
    m = _convert(tmp_path, model, data)
    ours, ref = _outputs(m, model, _exact_data(m, data))
    _within(m, ours, ref, 1.0)


# ------------------------------------------------------------------------------ TFLite refusals

@pytest.mark.parametrize("code, why", [("REDUCE_PROD", "no kernel for REDUCE_PROD"),
                                       ("LOCAL_RESPONSE_NORMALIZATION", "no kernel for LOCAL_RESPONSE"),
                                       ("L2_POOL_2D", "float32 only")])
def test_tflite_operators_without_tflm_int8_kernel_are_refused(code, why):
    from tflite_builder import TfOp, TfTensor, build

    ins = [TfTensor("x", (1, 4, 4, 8), "int8", 0.1, 0)]
    if code == "REDUCE_PROD":
        ins.append(TfTensor("axes", (1,), "int32", data=np.asarray([3], np.int32)))
    out = TfTensor("y", (1, 4, 4) if code == "REDUCE_PROD" else (1, 4, 4, 8), "int8", 0.1, 0)
    data = build(ins + [out], [TfOp(code, list(range(len(ins))), [len(ins)])], [0], [len(ins)])
    with pytest.raises(UnsupportedOpError, match=why):
        convert_tflite_bytes(data, "t")
