"""ONNX LSTM, GRU and RNN: converted to edgenn's recurrent operators (TFLM's integer LSTM
arithmetic), close to the float semantics (the ONNX reference evaluator: onnxruntime has no
batch-first layout), Python == host C byte for byte; the ONNX node conformance cases; streaming
(stateful, chunked) == whole sequence byte for byte; clear refusals."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.emulation import backends
from edgenn.errors import EdgennError
from edgenn.runtime_py import dataio
from edgenn.runtime_py.interpreter import Interpreter

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def recurrent_model(kind: str, direction: str = "forward", layout: int = 0, steps: int = 6, batch: int = 1,
                    n_in: int = 5, hidden: int = 4, init: bool = False, outputs=("Y", "Y_h"), seed: int = 0,
                    lbr: int = 0, head: bool = False, **extra) -> tuple[onnx.ModelProto, tuple[int, ...]]:
    """One ONNX recurrent node (random weights); ``head``: a Gemm classifier on Y_h (forward, batch 1)."""
    rng = np.random.default_rng(seed)
    g, nd = GATES[kind], 2 if direction == "bidirectional" else 1
    inits = [numpy_helper.from_array(rng.normal(0, 0.5, (nd, g * hidden, n_in)).astype(np.float32), "W"),
             numpy_helper.from_array(rng.normal(0, 0.5, (nd, g * hidden, hidden)).astype(np.float32), "R"),
             numpy_helper.from_array(rng.normal(0, 0.2, (nd, 2 * g * hidden)).astype(np.float32), "B")]
    ins = ["X", "W", "R", "B"]
    hs = (nd, batch, hidden) if layout == 0 else (batch, nd, hidden)
    if init:
        inits.append(numpy_helper.from_array(rng.normal(0, 0.3, hs).astype(np.float32), "h0"))
        ins += ["", "h0"]
        if kind == "LSTM":
            inits.append(numpy_helper.from_array(rng.normal(0, 0.3, hs).astype(np.float32), "c0"))
            ins.append("c0")
    attrs = dict(hidden_size=hidden, direction=direction, **extra)
    if layout:
        attrs["layout"] = 1
    if kind == "GRU":
        attrs["linear_before_reset"] = lbr
    outs = ["Y", "Y_h"] + (["Y_c"] if kind == "LSTM" else [])
    nodes = [helper.make_node(kind, ins, outs, name="rec", **attrs)]
    xs = (steps, batch, n_in) if layout == 0 else (batch, steps, n_in)
    ys = (steps, nd, batch, hidden) if layout == 0 else (batch, steps, nd, hidden)
    shapes = {"Y": ys, "Y_h": hs, "Y_c": hs}
    if head:
        inits.append(numpy_helper.from_array(np.asarray([1, hidden], np.int64), "shape"))
        inits.append(numpy_helper.from_array(rng.normal(0, 1, (hidden, 3)).astype(np.float32), "Wd"))
        nodes += [helper.make_node("Reshape", ["Y_h", "shape"], ["flat"]),
                  helper.make_node("Gemm", ["flat", "Wd"], ["logits"])]
        shapes["logits"] = (1, 3)
    graph = helper.make_graph(nodes, "rec", [helper.make_tensor_value_info("X", TensorProto.FLOAT, xs)],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, shapes[o]) for o in outputs], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m, xs


def reference(m: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    """Float outputs: onnxruntime, or the ONNX reference evaluator for batch-first layouts (which
    onnxruntime lacks; the reference evaluator lacks Sigmoid activations in RNN and LSTM)."""
    if any(a.name == "layout" and a.i == 1 for a in m.graph.node[0].attribute):
        ev = ReferenceEvaluator(m)
        res = [ev.run(None, {"X": s}) for s in x]
        return [np.stack([r[k] for r in res]) for k in range(len(m.graph.output))]
    from edgenn.converter.calibrate import run_float

    out = run_float(m, {"X": x})
    return [np.stack(out[o.name]) for o in m.graph.output]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.reshape(-1).astype(np.float64), b.reshape(-1).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def convert_model(tmp_path, m, xs, n_calib: int = 64, seed: int = 1, **opts):
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    calib = np.random.default_rng(seed).normal(0, 1, (n_calib,) + xs).astype(np.float32)
    return convert(path, [calib], ConvertOptions(progress=False, **opts))


CONFIGS = [
    ("LSTM", {}, 0.999),
    ("LSTM", {"direction": "bidirectional"}, 0.995),
    ("LSTM", {"direction": "reverse", "batch": 2}, 0.999),
    ("LSTM", {"layout": 1, "init": True}, 0.999),
    ("GRU", {}, 0.999),
    ("GRU", {"lbr": 1, "direction": "bidirectional", "init": True}, 0.999),
    ("GRU", {"layout": 1, "batch": 2}, 0.999),
    ("RNN", {}, 0.999),
    ("RNN", {"direction": "bidirectional", "init": True, "activations": ["Sigmoid", "Sigmoid"]}, 0.999),
    ("LSTM", {"activations": ["Sigmoid", "Sigmoid", "Tanh"]}, 0.999),
]


@pytest.mark.parametrize("kind,kw,min_cos", CONFIGS, ids=[f"{k}-{'-'.join(map(str, v.values()))}" for k, v, _ in CONFIGS])
def test_recurrent_node_converts_close_to_float_and_c_equals_python(tmp_path, kind, kw, min_cos):
    m, xs = recurrent_model(kind, **kw)
    model = convert_model(tmp_path, m, xs)
    x = np.random.default_rng(2).normal(0, 1, (12,) + xs).astype(np.float32)
    xq = dataio.to_internal(model, [x])
    ys = Interpreter(model).invoke(*xq)
    for got, want in zip(dataio.from_internal(model, ys, True), reference(m, x)):
        assert cosine(got, want.reshape(got.shape)) >= min_cos
    for a, b in zip(ys, backends.run(model, xq, "host")):
        assert np.array_equal(a, b)


def test_onnx_conformance_cases_of_recurrent_nodes(tmp_path):
    """onnx's own node test cases for LSTM, GRU and RNN: each converts and matches the expected float
    outputs closely, or is refused in one line for a named unsupported feature."""
    from onnx.backend.test.case.node import collect_testcases

    done, refused = 0, []
    for case in collect_testcases(None):
        if case.model.graph.node[0].op_type not in GATES:
            continue
        for inputs, outputs in case.data_sets:
            m = case.model
            path = tmp_path / f"{case.name}.onnx"
            onnx.save(m, path)
            ins = [i for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}]
            if len(ins) > 1:
                # weights fed as inputs: make them initializers (edgenn converts constant weights)
                m2 = onnx.ModelProto()
                m2.CopyFrom(m)
                del m2.graph.input[1:]
                for vi, v in zip(ins[1:], inputs[1:]):
                    m2.graph.initializer.append(numpy_helper.from_array(np.asarray(v), vi.name))
                onnx.save(m2, path)
                m = m2
            x = np.asarray(inputs[0], np.float32)
            try:
                model = convert(path, [np.stack([x] * 8) + np.random.default_rng(0).normal(0, 0.01, (8,) + x.shape)
                                       .astype(np.float32)], ConvertOptions(progress=False))
            except EdgennError as e:
                assert "\n" not in str(e)
                refused.append((case.name, str(e)))
                continue
            ys = dataio.from_internal(model, Interpreter(model).invoke(*dataio.to_internal(model, [x[None]])), True)
            for k, got in enumerate(ys):
                want = np.asarray(outputs[k], np.float32)
                scale = max(float(np.abs(want).max()), 1e-3)
                assert float(np.abs(got.reshape(want.shape) - want).max()) <= 0.05 * scale + 0.02, case.name
            done += 1
    assert done >= 8, (done, refused)
    for name, why in refused:
        assert any(w in why for w in ("peephole", "sequence_lens", "clip", "activations", "initial", "too small", "Y_c")), \
            (name, why)


@pytest.mark.parametrize("kind,chunk", [("LSTM", 1), ("GRU", 2), ("RNN", 4), ("LSTM", 8)])
def test_streaming_chunks_equal_the_whole_sequence(tmp_path, kind, chunk):
    """Converted --stateful with the sequence cut into chunks (--input-shape), fed one chunk per call:
    the outputs of the chunks are the whole-sequence outputs byte for byte, in Python and host C."""
    steps, n_in = 8, 5
    m, xs = recurrent_model(kind, steps=steps, n_in=n_in, init=True, outputs=("Y", "Y_h", "logits"), head=True)
    whole = convert_model(tmp_path, m, xs)
    stream = convert_model(tmp_path, m, xs, stateful=True, input_shapes={"X": (chunk, 1, n_in)})
    assert stream.stateful and not whole.stateful
    assert stream.arena_bytes < whole.arena_bytes or chunk == steps
    x = np.random.default_rng(3).normal(0, 1, (3,) + xs).astype(np.float32)
    want = Interpreter(whole).invoke(*dataio.to_internal(whole, [x]))
    it = Interpreter(stream)
    build = backends.build(stream, backends.get_board("host"), tmp_path / "stream")
    for s in range(3):
        chunks = dataio.to_internal(stream, [x[s].reshape(steps // chunk, chunk, 1, n_in)])
        it.reset()
        got = it.invoke(*chunks)
        got_c = backends.run_built(build, stream, chunks)  # the runner resets once, then one stream
        for a, b in zip(got, got_c):
            assert np.array_equal(a, b)
        y = got[0].reshape((steps,) + want[0].shape[2:])
        assert np.array_equal(y, want[0][s]), f"sequence {s}: Y differs"
        assert np.array_equal(got[1][-1], want[1][s]), f"sequence {s}: Y_h differs"
        assert np.array_equal(got[2][-1], want[2][s]), f"sequence {s}: the classifier differs"


def test_refusals(tmp_path):
    cases = [
        (recurrent_model("LSTM", outputs=("Y", "Y_c")), "Y_c"),
        (recurrent_model("LSTM", clip=2.0), "clip"),
        (recurrent_model("LSTM", input_forget=1), "input_forget"),
        (recurrent_model("LSTM", activations=["Relu", "Tanh", "Tanh"]), "activations"),
        (recurrent_model("GRU", activations=["Sigmoid", "Relu"]), "activations"),
    ]
    for (m, xs), word in cases:
        with pytest.raises(EdgennError) as e:
            convert_model(tmp_path, m, xs, n_calib=4)
        assert word in str(e.value) and "\n" not in str(e.value)
    m, xs = recurrent_model("GRU", direction="bidirectional")
    with pytest.raises(EdgennError, match="cannot stream"):
        convert_model(tmp_path, m, xs, n_calib=4, stateful=True)
    # an initial state fed as a model input
    m, xs = recurrent_model("RNN")
    m.graph.node[0].input.extend(["", "h_in"])
    m.graph.input.append(helper.make_tensor_value_info("h_in", TensorProto.FLOAT, (1, 1, 4)))
    with pytest.raises(EdgennError, match="initial_h must be a constant"):
        path = tmp_path / "h.onnx"
        onnx.save(m, path)
        convert(path, [np.zeros((2,) + xs, np.float32), np.zeros((2, 1, 1, 4), np.float32)],
                ConvertOptions(progress=False))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_weights_and_initial_state_must_fit_the_input(kind, tmp_path):
    """Found by tests/fuzz/onnx_mutate.py (a ValueError deep in the float reference): W whose input
    size is not the sequence's feature count, and an initial state of another shape, are refused
    with one line naming the node."""
    m, xs = recurrent_model(kind, layout=1, init=True)
    m.graph.input[0].type.tensor_type.shape.dim[2].dim_value = 6  # X (B, T, 6); W takes 5 features
    with pytest.raises(EdgennError, match=r"node 'rec' \(" + kind + r"\): W \[1, \d+, 5\] takes 5 input features, "
                                          r"the input \[\d+, \d+, 6\] has 6"):
        convert_model(tmp_path, m, xs[:2] + (6,))
    m, xs = recurrent_model(kind, layout=1, init=True)
    h0 = next(t for t in m.graph.initializer if t.name == "h0")
    h0.CopyFrom(numpy_helper.from_array(np.zeros((1, 1, 3), np.float32), "h0"))  # hidden size is 4
    with pytest.raises(EdgennError, match=r"initial_h has shape \[1, 1, 3\], expected \[1, 1, 4\]"):
        convert_model(tmp_path, m, xs)
