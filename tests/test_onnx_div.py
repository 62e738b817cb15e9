"""ONNX Div with a divisor that is an activation (two activations, or a constant numerator): converted
to edgenn's div (TFLM's integer DIV), bit-exact in host C, close to onnxruntime; Div by a constant
stays a mul by its reciprocal."""
from __future__ import annotations

import numpy as np
import onnx

from edgenn.converter.calibrate import run_float
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.runtime_py import dataio
from edgenn.runtime_py.interpreter import Interpreter
from edgenn.validate import validate

from onnx_models import Builder


def _run(tmp_path, model, data):
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    m = convert(p, data, ConvertOptions(progress=False))
    rep = validate(p, m, data, None, ["python", "host"], progress=False)
    assert rep["backends"]["host"]["mismatched_bytes"] == 0
    ours = dataio.from_internal(m, Interpreter(m).invoke(*dataio.to_internal(m, data)), True)[0]
    ref = np.stack(run_float(model, {"x": data[0]}, [model.graph.output[0].name])[model.graph.output[0].name])
    t = m.tensors[m.outputs[0].tensor]
    return m, np.abs(ours - ref.reshape(ours.shape)) / float(t.scale[0])


def test_onnx_div_of_two_activations(tmp_path):
    """x / (1 + relu-like positive branch): a divisor that stays away from 0, as in normalizations."""
    b = Builder(51)
    den = b.node("Add", [b.node("Sigmoid", ["x"]), b.const(np.asarray(0.5, np.float32))])
    y = b.node("Div", [b.conv("x", 4, 4), den])
    model = b.model([("x", [1, 4, 6, 6])], [y])
    data = [np.random.default_rng(0).normal(0, 1, (32, 1, 4, 6, 6)).astype(np.float32)]
    m, err = _run(tmp_path, model, data)
    assert "div" in [o.type for o in m.ops]
    assert np.mean(err <= 2.0) > 0.99 and err.max() <= 4.0, err.max()


def test_onnx_constant_divided_by_an_activation(tmp_path):
    b = Builder(52)
    den = b.node("Add", [b.node("Sigmoid", ["x"]), b.const(np.asarray(1.0, np.float32))])
    y = b.node("Div", [b.const(np.full((1, 4, 1, 1), 2.0, np.float32)), den])
    model = b.model([("x", [1, 4, 5, 5])], [y, b.conv("x", 4, 2)])
    data = [np.random.default_rng(1).normal(0, 2, (32, 1, 4, 5, 5)).astype(np.float32)]
    m, err = _run(tmp_path, model, data)
    assert "div" in [o.type for o in m.ops]
    assert err.max() <= 2.0, err.max()


def test_onnx_div_by_a_constant_is_a_mul(tmp_path):
    b = Builder(53)
    y = b.node("Div", ["x", b.const(np.asarray([2.0, 4.0, 0.5], np.float32).reshape(1, 3, 1, 1))])
    model = b.model([("x", [1, 3, 4, 4])], [y, b.conv("x", 3, 2)])
    data = [np.random.default_rng(2).normal(0, 1, (16, 1, 3, 4, 4)).astype(np.float32)]
    m, err = _run(tmp_path, model, data)
    assert "div" not in [o.type for o in m.ops] and "mul" in [o.type for o in m.ops]
    assert err.max() <= 1.5, err.max()
