"""ONNX elementwise and binary operators with the attribute variants exporters emit (PyTorch, TF):
each small model converts to edgenn's int8 operators, runs bit-exact in host C (== the Python
reference, byte for byte) and stays within quantization tolerance of onnxruntime's float result."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgenn.converter.calibrate import run_float
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.errors import EdgennError
from edgenn.runtime_py import dataio
from edgenn.runtime_py.interpreter import Interpreter
from edgenn.validate import validate

from onnx_models import Builder, check_onnx as _check


def _model(b: Builder, inputs, outputs, opset: int = 13) -> onnx.ModelProto:
    return b.model(inputs, outputs, opset)


# ---------------------------------------------------------------------------------------------- unary

@pytest.mark.parametrize("op, attrs, fn", [
    ("HardSigmoid", {"alpha": 1.0 / 6.0, "beta": 0.5}, "hard_sigmoid"),  # PyTorch's hardsigmoid
    ("HardSigmoid", {}, "hard_sigmoid"),  # ONNX / Keras 2 defaults: 0.2, 0.5
    ("Elu", {}, "elu"),
    ("Elu", {"alpha": 0.5}, "elu"),
    ("Selu", {}, "selu"),
    ("Exp", {}, "exp"),  # steep: the input's rounding alone moves exp(x) by up to 4.5 output steps
    ("Abs", {}, "abs"),
    ("Neg", {}, "neg"),
])
def test_unary_on_the_input_is_within_a_step(tmp_path, op, attrs, fn):
    """Straight on the (quantized) input: the table is exact to one output step, plus what the input's
    own rounding moves the function by."""
    b = Builder(21)
    y = b.node(op, ["x"], **attrs)
    m = _check(tmp_path, _model(b, [("x", [1, 4, 6, 6])], [y]), [(4, 6, 6)], max_steps=5.0 if op == "Exp" else 2.0)
    assert [o.type for o in m.ops] == ["lut"]


@pytest.mark.parametrize("op, attrs", [("HardSigmoid", {"alpha": 1.0 / 6.0, "beta": 0.5}), ("Elu", {}),
                                       ("Selu", {}), ("Abs", {}), ("Neg", {})])
def test_unary_after_conv(tmp_path, op, attrs):
    b = Builder(22)
    y = b.node(op, [b.conv("x", 3, 8, 3)], **attrs)
    m = _check(tmp_path, _model(b, [("x", [1, 3, 8, 8])], [y]), [(3, 8, 8)], max_steps=4.0)
    assert [o.type for o in m.ops] == ["conv2d", "lut"]


def test_log_softmax_and_softmax_output_quantization(tmp_path):
    b = Builder(23)
    h = b.gemm("x", 16, 10)
    m = _check(tmp_path, _model(b, [("x", [1, 16])], [b.node("LogSoftmax", [h], axis=1)]), [(16,)], max_steps=4.0)
    t = m.tensors[m.ops[-1].outputs[0]]
    assert m.ops[-1].type == "log_softmax" and (float(t.scale[0]), int(t.zero_point[0])) == (16 / 256, 127)


# ---------------------------------------------------------------------------------------------- softmax axes

@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("opset, axis, transposes", [
    (13, 1, 0),   # channels of NCHW: the stored last axis
    (13, 2, 2),   # height: moved last and back
    (13, -1, 2),  # width
    (13, 0, 2),   # the batch axis (extent 1: a softmax over one value)
    (11, 3, 2),   # opset 11, last ONNX axis (NCHW width)
    (11, 1, 1),   # opset 11 on 4-D: over the flattened C*H*W (to the ONNX layout, reshaped to 2-D and back)
])
def test_softmax_on_any_axis(tmp_path, op, opset, axis, transposes):
    b = Builder(24)
    y = b.node(op, [b.conv("x", 3, 5, 3)], axis=axis)
    # Over 210 values (opset 11, axis 1) probabilities are about one output step: cosine is lower.
    m = _check(tmp_path, _model(b, [("x", [1, 3, 6, 7])], [y], opset=opset), [(3, 6, 7)], max_steps=5.0,
               min_cos=0.95 if opset == 11 and axis == 1 else 0.995)
    kind = "softmax" if op == "Softmax" else "log_softmax"
    assert [o.type for o in m.ops].count(kind) == 1
    assert sum(o.type == "transpose" for o in m.ops) <= transposes
    if opset == 11 and axis == 1:
        sm = next(o for o in m.ops if o.type == kind)
        assert m.tensors[sm.inputs[0]].shape == (1, 5 * 6 * 7)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax_on_3d_axes(tmp_path, op):
    """(N, C, L) from a 1-D convolution, softmax over C, then over L."""
    b = Builder(25)
    w = b.const(b.rng.normal(0, 0.5, (4, 2, 3)).astype(np.float32))
    h = b.node("Conv", ["x", w], kernel_shape=[3], pads=[1, 1])
    y1 = b.node(op, [h], axis=1)
    y2 = b.node(op, [h], axis=2)
    _check(tmp_path, _model(b, [("x", [1, 2, 9])], [y1, y2]), [(2, 9)], max_steps=5.0)


# ---------------------------------------------------------------------------------------------- binary

def test_sub_of_two_activations_and_from_a_constant(tmp_path):
    b = Builder(26)
    a, c = b.conv("x", 3, 4, 3), b.conv("x", 3, 4, 1, pad=0)
    d = b.node("Sub", [a, c])
    e = b.node("Sub", [b.const(np.float32(1.5)), d])
    m = _check(tmp_path, _model(b, [("x", [1, 3, 6, 6])], [e]), [(3, 6, 6)], max_steps=4.0)
    assert [o.type for o in m.ops].count("sub") == 2


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_sum_of_any_number_of_inputs(tmp_path, n):
    b = Builder(27)
    branches = [b.conv("x", 3, 4, 3 if k % 2 else 1, pad=1 if k % 2 else 0) for k in range(n)]
    y = b.node("Sum", branches)
    m = _check(tmp_path, _model(b, [("x", [1, 3, 6, 6])], [y]), [(3, 6, 6)], max_steps=3.0)
    kinds = [o.type for o in m.ops]
    assert ("add_n" in kinds) == (n > 2) and ("add" in kinds) == (n == 2)


@pytest.mark.parametrize("op", ["Max", "Min"])
@pytest.mark.parametrize("n, const", [(2, False), (3, False), (2, True)])
def test_max_min(tmp_path, op, n, const):
    b = Builder(28)
    ops = [b.conv("x", 3, 4, 3) for _ in range(n)]
    if const:
        ops[1] = b.const(np.float32(0.25 if op == "Max" else -0.25))  # Max(x, c): a shifted ReLU
    y = b.node(op, ops)
    m = _check(tmp_path, _model(b, [("x", [1, 3, 6, 6])], [y]), [(3, 6, 6)], max_steps=4.0)
    mm = [o for o in m.ops if o.type == "maximum_minimum"]
    assert len(mm) == n - 1 and all(o.options["is_maximum"] == (op == "Max") for o in mm)


@pytest.mark.parametrize("slope_shape", [(4, 1, 1), (1,), (1, 4, 1, 1)])
def test_prelu_per_channel_slopes(tmp_path, slope_shape):
    """PyTorch exports nn.PReLU(C) as a (C, 1, 1) slope, nn.PReLU() as (1,)."""
    b = Builder(29)
    slope = b.const(np.random.default_rng(1).uniform(-0.5, 0.8, slope_shape).astype(np.float32))
    y = b.node("PRelu", [b.conv("x", 3, 4, 3), slope])
    m = _check(tmp_path, _model(b, [("x", [1, 3, 6, 6])], [y]), [(3, 6, 6)], max_steps=3.0)
    assert [o.type for o in m.ops] == ["conv2d", "prelu"]


def test_prelu_after_gemm(tmp_path):
    b = Builder(30)
    h = b.gemm("x", 8, 6, 0.5)
    y = b.node("PRelu", [h, b.const(np.linspace(-0.3, 0.3, 6).astype(np.float32))])
    _check(tmp_path, _model(b, [("x", [1, 8])], [y]), [(8,)], max_steps=3.0)


# ---------------------------------------------------------------------------------------------- comparisons, where

def test_where_on_a_constant_condition(tmp_path):
    b = Builder(31)
    a, c = b.conv("x", 3, 4, 3), b.conv("x", 3, 4, 1, pad=0)
    mask = np.random.default_rng(2).integers(0, 2, (1, 4, 6, 6)).astype(bool)
    y = b.node("Where", [b.const(mask), a, c])
    m = _check(tmp_path, _model(b, [("x", [1, 3, 6, 6])], [y]), [(3, 6, 6)], max_steps=2.0)
    sel = next(o for o in m.ops if o.type == "select")
    assert m.tensors[sel.inputs[0]].dtype == "bool" and m.tensors[sel.inputs[0]].is_const


@pytest.mark.parametrize("cmp", ["Greater", "Less", "Equal", "GreaterOrEqual", "LessOrEqual"])
def test_comparison_feeding_where(tmp_path, cmp):
    """Where(x > 0.3, x, 0.1 x) and the like: a bool tensor between two operators."""
    b = Builder(32)
    h = b.conv("x", 3, 4, 3)
    other = b.conv("x", 3, 4, 1, pad=0) if cmp != "Equal" else b.node("Relu", [h])  # Equal: x == relu(x)
    cond = b.node(cmp, [h, b.const(np.float32(0.3))] if cmp != "Equal" else [h, other])
    y = b.node("Where", [cond, h, b.node("Mul", [h, b.const(np.float32(0.1))])])
    m = _check(tmp_path, _model(b, [("x", [1, 3, 6, 6])], [y]), [(3, 6, 6)], max_steps=3.0, min_cos=0.99,
               bad_fraction=0.02)
    c = next(o for o in m.ops if o.type == "compare")
    assert m.tensors[c.outputs[0]].dtype == "bool"
    assert any(o.type == "select" and o.inputs[0] == c.outputs[0] for o in m.ops)


def test_bool_model_output(tmp_path):
    """A comparison as the model's output: bool bytes from python and C alike, equal to onnxruntime's
    where the real value is not within a quantization step of the threshold."""
    b = Builder(33)
    h = b.conv("x", 3, 4, 3)
    y = b.node("Less", [h, b.const(np.float32(-0.2))])
    g = helper.make_graph(b.nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
                          [helper.make_tensor_value_info(y, TensorProto.BOOL, [1, 4, 6, 6])], b.inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    m = _check(tmp_path, model, [(3, 6, 6)], min_cos=0.98)  # values near the threshold may flip
    out = m.tensors[m.outputs[0].tensor]
    assert out.dtype == "bool"
    rng = np.random.default_rng(0)
    data = [rng.normal(0, 1, (64, 3, 6, 6)).astype(np.float32)]
    got = dataio.from_internal(m, Interpreter(m).invoke(*dataio.to_internal(m, data)), as_float=False)[0]
    ref = run_float(model, {"x": data[0][:, None]}, [y, h])
    want, hv = np.stack(ref[y]).reshape(got.shape), np.stack(ref[h]).reshape(got.shape)
    clear = np.abs(hv + 0.2) > 0.05
    assert got.dtype == np.bool_ and np.array_equal(got[clear], want[clear])


def test_bool_tensors_are_not_moved(tmp_path):
    """A bool tensor reshaped (or transposed, concatenated...): a clear one-line error, not a copy of
    bools through an operator that moves quantized values."""
    b = Builder(34)
    h = b.conv("x", 3, 4, 3)
    cond = b.node("Greater", [h, b.const(np.float32(0))])
    y = b.node("Reshape", [cond, b.const(np.array([1, 4, 36], np.int64))])
    p = tmp_path / "w.onnx"
    onnx.save(_model(b, [("x", [1, 3, 6, 6])], [y]), p)
    with pytest.raises(EdgennError) as e:
        convert(p, [np.zeros((4, 3, 6, 6), np.float32)], ConvertOptions(progress=False))
    assert "\n" not in str(e.value).strip()


# ---------------------------------------------------------------------------------------------- end to end

@pytest.mark.qemu
def test_mobilenet_v3_block_and_prelu_block_all_backends(tmp_path):
    """HardSwish, HardSigmoid squeeze-excite, PRelu, Max, Sub, Where(Greater), Elu and LogSoftmax in one
    model: python, host C and the Cortex-M4 under QEMU give the same bytes; close to onnxruntime."""
    from onnx_models import mobilenet_v3_prelu

    model = mobilenet_v3_prelu()
    p = tmp_path / "mnv3.onnx"
    onnx.save(model, p)
    rng = np.random.default_rng(5)
    calib = [rng.normal(0, 1, (96, 3, 16, 16)).astype(np.float32)]
    m = convert(p, calib, ConvertOptions(progress=False))
    kinds = {o.type for o in m.ops}
    assert {"hard_swish", "lut", "prelu", "maximum_minimum", "sub", "compare", "select", "log_softmax"} <= kinds
    # Elementwise for the memory planner: some of them write their output over their dying input.
    mine = {"lut", "prelu", "maximum_minimum", "sub", "compare", "select"}
    assert any(m.tensors[op.outputs[0]].arena_offset in {m.tensors[i].arena_offset for i in op.inputs if i >= 0}
               for op in m.ops if op.type in mine)
    data = [rng.normal(0, 1, (24, 3, 16, 16)).astype(np.float32)]
    rep = validate(p, m, data, None, ["python", "host", "qemu"], "mps2-an386", progress=False)
    for name in ("python", "host", "qemu"):
        assert rep["backends"][name]["mismatched_bytes"] == 0, name
    assert rep["backends"]["python"]["top1_agreement"] >= 0.9
    assert rep["backends"]["python"]["cosine"] >= 0.99


def test_new_operators_run_in_place_for_the_planner():
    """Every new operator is elementwise for the memory planner: its output may start where a dying
    input of the output's shape starts (the kernels write each output right after reading its inputs)."""
    from edgenn.runtime_py import memory

    for op in ("sub", "squared_difference", "maximum_minimum", "compare", "select", "prelu", "add_n", "lut",
               "log_softmax"):
        assert memory.min_delta(op, {}, (1, 4, 4, 8), (1, 4, 4, 8)) == 0, op
