"""A loaded model is checked before anything runs or becomes C: every operator against its kernel's
traits and ``check`` (runtime_py/kernels), and every reader against the resource limits
(edgenn/limits.py) before it allocates. Each refusal is one line naming the file or operator."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgenn import limits
from edgenn.boards import get_board
from edgenn.codegen.generate import render_library
from edgenn.converter.onnx_import import import_onnx
from edgenn.converter.tflite_import import convert_tflite_bytes
from edgenn.errors import DataError, ModelFormatError, UnsupportedOpError
from edgenn.format import enn
from edgenn.runtime_py.interpreter import Interpreter
from edgenn.runtime_py.kernels import check_model, traits

FUZZ = Path(__file__).resolve().parent / "fuzz"
DIGITS = FUZZ / "corpus" / "enn" / "digits.enn"
TFLITE = FUZZ / "corpus" / "tflite" / "cnn_int8.tflite"


@pytest.fixture()
def digits() -> enn.EnnModel:
    return enn.load(DIGITS)


def _first(m: enn.EnnModel, op_type: str) -> tuple[int, enn.EnnOp]:
    return next((i, op) for i, op in enumerate(m.ops) if op.type == op_type)


def _refused(m: enn.EnnModel, tmp_path: Path, *needles: str) -> str:
    """The model is refused by the interpreter and by code generation with the same one-line error."""
    with pytest.raises(ModelFormatError) as e1:
        Interpreter(m)
    with pytest.raises(ModelFormatError) as e2:
        render_library(m, tmp_path / "lib", get_board("host"))
    msg = str(e1.value)
    assert msg == str(e2.value) and "\n" not in msg
    for n in needles:
        assert n in msg, msg
    assert not (tmp_path / "lib").exists(), "code generation wrote files for a refused model"
    return msg


def test_every_test_model_passes_its_checks(digits):
    check_model(digits)
    for p in sorted((FUZZ / "corpus" / "enn").glob("*.enn")):
        check_model(enn.load(p))


def test_missing_required_input_is_named(digits, tmp_path):
    i, op = _first(digits, "conv2d")
    op.inputs = op.inputs[:1]
    _refused(digits, tmp_path, f"operator {i} {op.name!r} (conv2d)", "input 1 (weights) is missing")


def test_too_many_inputs(digits, tmp_path):
    i, op = _first(digits, "fully_connected")
    op.inputs = op.inputs + [op.inputs[0]]
    _refused(digits, tmp_path, "(fully_connected) has 4 inputs, at most 3")


def test_weights_must_be_constants(digits, tmp_path):
    i, op = _first(digits, "fully_connected")
    op.inputs[1] = op.inputs[0]
    _refused(digits, tmp_path, "input 1 (weights) must be a constant")


def test_weights_that_do_not_fit_the_channels(digits, tmp_path):
    i, op = _first(digits, "conv2d")
    out = digits.tensors[op.outputs[0]]
    out.shape = out.shape[:3] + (out.shape[3] * 2,)
    _refused(digits, tmp_path, "(conv2d) weights", "do not fit input")


def test_per_channel_parameters_must_match_the_channels(digits, tmp_path):
    i, op = _first(digits, "depthwise_conv2d")
    op.options["out_multiplier"] = op.options["out_multiplier"][:2]
    _refused(digits, tmp_path, "(depthwise_conv2d) has 2 output multipliers")


def test_elementwise_shapes_must_agree(tmp_path):
    m = enn.load(FUZZ / "corpus" / "enn" / "branches_int8.enn")
    i, op = next((i, op) for i, op in enumerate(m.ops) if traits(op.type).overlap == "elementwise"
                 and len(op.inputs) == 2)
    # Input 0 replaced by a tensor one channel wider (only this operator reads it).
    x = copy.deepcopy(m.tensors[op.inputs[0]])
    x.shape = x.shape[:-1] + (x.shape[-1] + 1,)
    m.tensors.append(x)
    op.inputs[0] = len(m.tensors) - 1
    _refused(m, tmp_path, f"operator {i} ", f"({op.type}) input 0 of shape", "does not broadcast to the output shape")


def test_clamp_bounds_must_fit_the_output_type(digits, tmp_path):
    i, op = _first(digits, "conv2d")
    op.options["act_min"] = 131072  # the .enn fuzzer's find: numpy's clip raised OverflowError
    _refused(copy.deepcopy(digits), tmp_path / "a", f"operator {i} ", "(conv2d) has option act_min outside [-128, 127]")
    op.options["act_min"], op.options["act_max"] = 10, -10
    _refused(digits, tmp_path / "b", "(conv2d) has act_min 10 above act_max -10")


def test_arity_traits_are_declared_consistently():
    t = traits("fully_connected")
    assert t.optional == ("bias",) and set(t.constants) == {"weights", "bias"}
    assert traits("concat").variadic and traits("split").outputs == 0


# ------------------------------------------------------------------------- resource limits

def test_enn_with_a_huge_arena_is_refused(digits):
    digits.arena_bytes = limits.MAX_ARENA_BYTES + 1
    with pytest.raises(ModelFormatError, match=r"^h\.enn: the model declares an arena of 1,073,741,825 bytes"):
        enn.from_bytes(enn.to_bytes(digits), "h.enn")


def test_enn_with_a_huge_tensor_is_refused(digits):
    t = next(t for t in digits.tensors if not t.is_const)
    t.shape = (1 << 20, 1 << 20)
    t.nbytes = 1
    with pytest.raises(ModelFormatError, match=r"over the limit of 1,073,741,824 bytes \(damaged file\?\)"):
        enn.from_bytes(enn.to_bytes(digits), "h.enn")


def test_enn_encoded_stream_cannot_claim_more_than_one_bit_per_value(digits):
    from edgenn.format import weight_codecs

    t = next(t for t in digits.tensors if t.is_const and t.dtype == "int8" and t.size > 100)
    t.data = np.zeros(8 * 1024 * 1024, np.int8)  # all equal: one bit per value, 1 MiB of stream
    t.shape = t.data.shape
    t.encoding, t.encoded = "huffman", weight_codecs.encode_huffman(t.data)
    stream = len(t.encoded)
    ok = enn.to_bytes(digits)
    t.shape = (8 * stream + 1024,)  # claims more values than the stream can hold
    t.data = np.zeros(t.shape, np.int8)
    with pytest.raises(ModelFormatError, match=rf"declares {8 * stream + 1024:,} values in a {stream:,}-byte huffman"):
        enn.from_bytes(enn.to_bytes(digits), "h.enn")
    with pytest.raises(ModelFormatError) as e:  # the honest stream passes the bound (and fails later checks)
        enn.from_bytes(ok, "ok.enn")
    assert "values in a" not in str(e.value)


def test_tflite_with_a_huge_tensor_is_refused():
    import tflite

    data = bytearray(TFLITE.read_bytes())
    model = tflite.Model.GetRootAs(bytes(data), 0)
    t = model.Subgraphs(0).Tensors(0)
    # Patch the first dimension in place: the flatbuffer keeps the vector where it is.
    shape = t.ShapeAsNumpy()
    pos = t._tab.Vector(t._tab.Offset(4))
    assert int.from_bytes(data[pos:pos + 4], "little") == int(shape[0])
    data[pos:pos + 4] = (1 << 30).to_bytes(4, "little")
    with pytest.raises(ModelFormatError, match=r"^big\.tflite: tensor .* over the limit of 1,073,741,824 bytes"):
        convert_tflite_bytes(bytes(data), "m", "big.tflite")


def _save(tmp_path: Path, graph: onnx.GraphProto, name: str = "m.onnx") -> Path:
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    p = tmp_path / name
    onnx.save(m, p)
    return p


def test_onnx_initializer_larger_than_the_file_is_refused(tmp_path):
    w = numpy_helper.from_array(np.zeros(4, np.float32), "w")
    w.ClearField("raw_data")
    del w.dims[:]
    w.dims.extend([1 << 20, 64])
    w.float_data.extend([0.0] * 4)
    g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1 << 20, 64])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1 << 20, 64])], [w])
    p = _save(tmp_path, g)
    with pytest.raises(ModelFormatError, match=r"initializer 'w' declares 268,435,456 bytes, more than the whole"):
        import_onnx(p)


def test_onnx_constant_folding_that_would_explode_is_refused(tmp_path):
    shape = numpy_helper.from_array(np.array([1 << 16, 1 << 16], np.int64), "shape")
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"]),
             helper.make_node("Add", ["x", "big"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1 << 16, 1 << 16])], [shape])
    p = _save(tmp_path, g)
    with pytest.raises((ModelFormatError, UnsupportedOpError), match=r"over the limit of 1,073,741,824 bytes"):
        import_onnx(p)


@pytest.mark.parametrize("op,value", [("Reshape", [(1 << 63) - 1]), ("Expand", [1, 1 << 20, 1 << 20]),
                                      ("Range", None)])
def test_onnx_shapes_that_would_explode_inference_are_refused(op, value, tmp_path):
    """A constant shape, or a Range, describing a tensor beyond the limit is refused before ONNX's
    shape inference (whose data propagation took 7.5 GB on the Reshape: the structure-aware
    fuzzer's find), with one line naming the node."""
    if op == "Range":
        inits = [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
                 (("start", 0), ("limit", 1 << 40), ("delta", 1))]
        nodes = [helper.make_node("Range", ["start", "limit", "delta"], ["r"], name="n"),
                 helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
                 helper.make_node("Add", ["x", "rf"], ["y"])]
    else:
        inits = [numpy_helper.from_array(np.array(value, np.int64), "shape")]
        nodes = [helper.make_node(op, ["x", "shape"], ["y"], name="n")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, {"Reshape": ["a"], "Range": ["a", "b"]}
                                                         .get(op, ["a", "b", "c"]))], inits)
    p = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), p)
    with pytest.raises(ModelFormatError, match=rf"node 'n' \({op}\): .*over the limit of 1,073,741,824 bytes"):
        import_onnx(p)


def test_onnx_input_too_large_to_calibrate_is_refused(tmp_path):
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 100000, 100000])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 100000, 100000])])
    p = _save(tmp_path, g)
    with pytest.raises(DataError, match=r"input 'x' declares 120,000,000,000 bytes"):
        import_onnx(p)


# ---------------------------------------------------------------- the recurrent operators' checks

DATA_TFLITE = Path(__file__).resolve().parent / "data" / "tflite"


def _tflite(name: str) -> enn.EnnModel:
    p = DATA_TFLITE / f"{name}.tflite"
    return convert_tflite_bytes(p.read_bytes(), name, str(p))


def _onnx_recurrent(kind: str, tmp_path: Path) -> enn.EnnModel:
    from test_onnx_recurrent import convert_model, recurrent_model

    m, xs = recurrent_model(kind, batch=2)
    return convert_model(tmp_path, m, xs, n_calib=8)


def test_lstm_state_and_weights_are_checked(tmp_path):
    m = _tflite("lstm_int8")
    check_model(m)
    i, op = _first(m, "lstm")
    bad = copy.deepcopy(m)
    bad.tensors[bad.ops[i].inputs[14]].dtype = "int8"
    _refused(bad, tmp_path / "a", f"operator {i} ", "(lstm) cell state", "needs int16")
    bad = copy.deepcopy(m)
    w = bad.tensors[bad.ops[i].inputs[6]]
    w.shape, w.data = (w.shape[0] - 1, w.shape[1]), w.data[:-1]
    _refused(bad, tmp_path / "b", "(lstm) recurrent weights")
    bad = copy.deepcopy(m)
    bad.ops[i].scratch_bytes -= 2
    _refused(bad, tmp_path / "c", "(lstm) has", "bytes of scratch, its kernel needs")
    bad = copy.deepcopy(m)
    bad.ops[i].options["cell_scale_power"] = 20
    _refused(bad, tmp_path / "d", "(lstm) has cell scale 2^20")


def test_gru_and_rnn_options_and_state_are_checked(tmp_path):
    gru = _onnx_recurrent("GRU", tmp_path)
    check_model(gru)
    i, op = _first(gru, "gru")
    op.options["input_fc_multiplier"] = np.asarray(op.options["input_fc_multiplier"])[:2]
    _refused(gru, tmp_path / "a", "(gru) has 2 input_fc_multiplier")
    rnn = _onnx_recurrent("RNN", tmp_path)
    check_model(rnn)
    i, op = _first(rnn, "rnn")
    h = rnn.tensors[op.inputs[4]]
    h.shape = (1,) + tuple(h.shape[1:])
    _refused(rnn, tmp_path / "b", "(rnn) hidden state")


def test_svdf_shapes_and_types_are_checked(tmp_path):
    m = _tflite("tflm_keyword_svdf")
    check_model(m)
    i, op = _first(m, "svdf")
    bad = copy.deepcopy(m)
    bad.ops[i].options["rank"] = 7
    _refused(bad, tmp_path / "a", "(svdf) weights", "with rank 7 do not fit")
    bad = copy.deepcopy(m)
    bad.tensors[bad.ops[i].inputs[2]].dtype = "int8"
    _refused(bad, tmp_path / "b", "(svdf) time weights", "needs int16")


# ---------------------------------------------------------------- malformed ONNX nodes

MALFORMED_NODES = {
    "maxpool_kernel_of_one_axis": helper.make_node("MaxPool", ["x"], ["y"], name="t", kernel_shape=[2]),
    "avgpool_pads_of_one_side": helper.make_node("AveragePool", ["x"], ["y"], name="t", kernel_shape=[2, 2],
                                                 pads=[0, 0]),
}


@pytest.mark.parametrize("perm", [[0, 1], [0, 2, 2, 1]])
def test_transpose_perm_must_be_a_permutation(perm, tmp_path):
    """Too short (the ONNX byte fuzzer's find) or repeating an axis (the structure-aware fuzzer's):
    one line naming the node and the permutation."""
    g = helper.make_graph([helper.make_node("Transpose", ["x"], ["y"], name="t", perm=perm)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c", "d"])])
    with pytest.raises(ModelFormatError, match=rf"node 't' \(Transpose\): perm {re.escape(str(perm))} is not a "
                                               r"permutation of the input's 4 axes$"):
        import_onnx(_save(tmp_path, g))


@pytest.mark.parametrize("case", sorted(MALFORMED_NODES))
def test_malformed_onnx_node_is_named_not_a_traceback(case, tmp_path, monkeypatch):
    """A node whose attributes do not fit its input (found by hand after the fuzz runs: each raised
    an IndexError or KeyError inside its handler) is refused with one line naming the node."""
    monkeypatch.delenv("EDGENN_DEBUG", raising=False)
    node = MALFORMED_NODES[case]
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c", "d"])])
    p = _save(tmp_path, g)
    with pytest.raises(ModelFormatError) as e:
        import_onnx(p)
    msg = str(e.value)
    assert "\n" not in msg and f"node 't' ({node.op_type}): cannot import this node" in msg, msg
