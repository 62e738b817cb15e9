"""Small float ONNX models built with onnx.helper for tests (random but seeded weights), and the check
of a converted model against onnxruntime and the host C build."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def const(self, arr: np.ndarray, base: str = "c") -> str:
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(self, op: str, inputs: list[str], n_out: int = 1, **attrs) -> str | list[str]:
        outs = [self.name(op.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=self.name(op + "_node"), **attrs))
        return outs[0] if n_out == 1 else outs

    def conv(self, x: str, cin: int, cout: int, k: int = 3, stride: int = 1, pad: int | None = None, group: int = 1,
             bias: bool = True) -> str:
        pad = k // 2 if pad is None else pad
        w = self.rng.normal(0, 1.0 / np.sqrt(cin // group * k * k), (cout, cin // group, k, k)).astype(np.float32)
        ins = [x, self.const(w, "w")]
        if bias:
            ins.append(self.const(self.rng.normal(0, 0.1, cout).astype(np.float32), "b"))
        return self.node("Conv", ins, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, group=group)

    def gemm(self, x: str, cin: int, cout: int, std: float = 1.0) -> str:
        """Gemm with random (cout, cin) weights (transB) and a zero bias."""
        w = self.const(self.rng.normal(0, std, (cout, cin)).astype(np.float32), "w")
        return self.node("Gemm", [x, w, self.const(np.zeros(cout, np.float32), "b")], transB=1)

    def bn(self, x: str, c: int) -> str:
        r = self.rng
        return self.node("BatchNormalization", [
            x, self.const(r.uniform(0.5, 1.5, c).astype(np.float32)), self.const(r.normal(0, 0.2, c).astype(np.float32)),
            self.const(r.normal(0, 0.2, c).astype(np.float32)), self.const(r.uniform(0.5, 2, c).astype(np.float32))])

    def model(self, inputs: list[tuple[str, list]], outputs: list[str], opset: int = 13) -> onnx.ModelProto:
        g = helper.make_graph(self.nodes, "test", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], self.inits)
        return model_of(g, opset)


def model_of(g: onnx.GraphProto, opset: int = 13) -> onnx.ModelProto:
    """A model of graph ``g`` (IR version <= 8) whose outputs are declared with their inferred shapes
    (the checker wants a shape)."""
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = min(m.ir_version, 8)
    inferred = onnx.shape_inference.infer_shapes(m)
    known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for o in m.graph.output:
        if o.name in known and known[o.name].type.tensor_type.HasField("shape"):
            o.CopyFrom(known[o.name])
    return m


def ds_residual_cnn(seed: int = 0, opset: int = 13) -> onnx.ModelProto:
    """Depthwise-separable blocks and a residual Add, ending in Gemm + Softmax (MobileNet-like)."""
    b = Builder(seed)
    x = "input"
    h = b.node("Relu", [b.bn(b.conv(x, 3, 16, 3, stride=2, bias=False), 16)])
    # depthwise-separable block 1
    d = b.node("Clip", [b.bn(b.conv(h, 16, 16, 3, group=16, bias=False), 16), b.const(np.float32(0)), b.const(np.float32(6))])
    p = b.bn(b.conv(d, 16, 16, 1, pad=0, bias=False), 16)
    h2 = b.node("Relu", [b.node("Add", [p, h])])  # residual
    # depthwise-separable block 2 with stride 2 and channel multiplier 2
    d2 = b.node("Relu", [b.bn(b.conv(h2, 16, 32, 3, stride=2, group=16, bias=False), 32)])
    p2 = b.node("Relu", [b.bn(b.conv(d2, 32, 24, 1, pad=0), 24)])
    gap = b.node("GlobalAveragePool", [p2])
    flat = b.node("Flatten", [gap], axis=1)
    fc = b.node("Gemm", [flat, b.const(b.rng.normal(0, 0.3, (10, 24)).astype(np.float32)),
                         b.const(b.rng.normal(0, 0.1, 10).astype(np.float32))], transB=1)
    out = b.node("Softmax", [fc], axis=1)
    return b.model([(x, [1, 3, 16, 16])], [out], opset)


def mobilenet_v3_prelu(seed: int = 0, opset: int = 14) -> onnx.ModelProto:
    """A MobileNetV3-style bottleneck (expand 1x1 + HardSwish, depthwise 3x3, squeeze-excite with
    ReLU and HardSigmoid gating the channels, project 1x1, residual Add), a PReLU block (per-channel
    slopes, PyTorch's (C, 1, 1)) with Max / Sub / Where(Greater) around it, and a Gemm head with
    LogSoftmax."""
    b = Builder(seed)
    x = "input"
    stem = b.node("HardSwish", [b.bn(b.conv(x, 3, 8, 3, stride=2, bias=False), 8)])
    e = b.node("HardSwish", [b.conv(stem, 8, 16, 1, pad=0)])
    d = b.node("HardSwish", [b.bn(b.conv(e, 16, 16, 3, group=16, bias=False), 16)])
    s = b.node("GlobalAveragePool", [d])
    s = b.node("Relu", [b.conv(s, 16, 4, 1, pad=0)])
    s = b.node("HardSigmoid", [b.conv(s, 4, 16, 1, pad=0)], alpha=1.0 / 6.0, beta=0.5)
    se = b.node("Mul", [d, s])
    p = b.conv(se, 16, 8, 1, pad=0)
    r = b.node("Add", [p, stem])
    slope = b.const(b.rng.uniform(0.05, 0.4, (8, 1, 1)).astype(np.float32))
    q = b.node("PRelu", [b.conv(r, 8, 8, 3), slope])
    m = b.node("Max", [q, b.conv(r, 8, 8, 1, pad=0)])
    diff = b.node("Sub", [m, r])
    w = b.node("Where", [b.node("Greater", [diff, b.const(np.float32(0.0))]), diff,
                         b.node("Elu", [diff], alpha=0.5)])
    g = b.node("Flatten", [b.node("GlobalAveragePool", [w])], axis=1)
    fc = b.node("Gemm", [g, b.const(b.rng.normal(0, 0.5, (10, 8)).astype(np.float32)),
                         b.const(b.rng.normal(0, 0.1, 10).astype(np.float32))], transB=1)
    out = b.node("LogSoftmax", [fc], axis=1)
    return b.model([(x, [1, 3, 16, 16])], [out], opset)


def check_onnx(tmp_path: Path, model: onnx.ModelProto, shapes: list[tuple[int, ...]], max_steps: float = 2.0,
           min_cos: float = 0.995, data: list[np.ndarray] | None = None, bad_fraction: float = 0.0):
    """Convert, run python + host C (bit-exact), and compare with onnxruntime: every output within
    ``max_steps`` of its quantization step of the float value clipped to the output's range (but
    ``bad_fraction`` of them: a selection flipped by a comparison near its threshold); bool outputs
    are checked by their tests."""
    from edgenn.converter.calibrate import run_float
    from edgenn.converter.pipeline import ConvertOptions, convert
    from edgenn.runtime_py import dataio
    from edgenn.runtime_py.interpreter import Interpreter
    from edgenn.validate import validate

    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    rng = np.random.default_rng(0)
    data = data or [rng.normal(0, 1, (64,) + s).astype(np.float32) for s in shapes]
    m = convert(p, data, ConvertOptions(progress=False))
    rep = validate(p, m, data, None, ["python", "host"], progress=False)
    assert rep["backends"]["host"]["mismatched_bytes"] == 0
    x = dataio.to_internal(m, data)
    ours = dataio.from_internal(m, Interpreter(m).invoke(*x), as_float=True)
    feeds = {d.source_name: dataio.source_batches(a, tuple(d.source_shape), "data", d.source_name)
             for d, a in zip(m.inputs, data)}
    ref = run_float(model, feeds, [d.source_name for d in m.outputs])
    for d, y in zip(m.outputs, ours):
        t = m.tensors[d.tensor]
        r = np.stack(ref[d.source_name]).reshape(y.shape).astype(np.float64)
        if t.dtype == "bool":
            continue
        s, z = float(t.scale[0]), int(t.zero_point[0])
        err = np.abs(y - np.clip(r, (-128 - z) * s, (127 - z) * s)) / s
        assert np.mean(err > max_steps) <= bad_fraction, f"{d.source_name}: max error {err.max():.2f} steps"
    assert rep["backends"]["python"]["cosine"] >= min_cos, rep["backends"]["python"]["cosine"]
    return m
