"""Layer-by-layer comparison: names the first layer that differs from the reference."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.converter.tflite_import import convert_tflite_bytes
from edgenn.layers import compare_layers
from edgenn.format import enn

ROOT = Path(__file__).resolve().parent.parent
KWS = ROOT / "tests" / "data" / "mlperf_tiny" / "kws_ref_model.tflite"
DIGITS = ROOT / "examples" / "digits"


def _kws_inputs(model, n=6):
    t = model.tensors[model.inputs[0].tensor]
    return [np.random.default_rng(0).integers(-128, 128, (n,) + tuple(t.shape)).astype(np.int8)]


def test_faithful_model_matches_tflm_and_host_at_every_layer():
    m = convert_tflite_bytes(KWS.read_bytes(), "kws", str(KWS))
    r = compare_layers(KWS, m, _kws_inputs(m), ["host"])
    assert r["first_mismatch"] is None and r["first_backend_mismatch"] == {"host": None}
    assert all(row["compared"] and row["mismatched_bytes"] == 0 and row["host_mismatched_bytes"] == 0
               for row in r["layers"])


def test_first_differing_layer_is_named():
    m = convert_tflite_bytes(KWS.read_bytes(), "kws", str(KWS))
    bad = copy.deepcopy(m)
    k = 4
    bad.ops[k].options["output_offset"] = int(bad.ops[k].options["output_offset"]) + 3  # a wrong zero point
    r = compare_layers(KWS, bad, _kws_inputs(m))
    assert r["first_mismatch"] == k
    assert all(row["mismatched_bytes"] == 0 for row in r["layers"][:k])
    assert r["layers"][k]["mismatched_bytes"] > 0


def test_onnx_layers_compare_with_the_float_model():
    m = convert(DIGITS / "model.onnx", [np.load(DIGITS / "calib.npy")], ConvertOptions(progress=False))
    r = compare_layers(DIGITS / "model.onnx", m, [np.load(DIGITS / "test_x.npy")[:40]])
    assert r["reference"] == "onnxruntime"
    compared = [row for row in r["layers"] if row["compared"]]
    assert len(compared) >= len(r["layers"]) - 1  # the NHWC-flattened reshape has no ONNX twin
    assert all(row["cosine"] > 0.99 for row in compared)


def test_onnx_layers_of_a_model_with_dynamic_input_sizes(tmp_path):
    """A fully convolutional net exported with dynamic height and width, converted with
    --input-shape: the layer comparison imports the source at the sizes the model was converted at
    (from its provenance), as the conversion did."""
    import onnx

    from onnx_models import Builder

    b = Builder(402)
    h = b.node("Relu", [b.node("Conv", ["x", b.const(b.rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32))],
                                pads=[1, 1, 1, 1])])
    y = b.node("Conv", [h, b.const(b.rng.normal(0, 0.3, (2, 4, 1, 1)).astype(np.float32))])
    g = onnx.helper.make_graph(b.nodes, "fcn", [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                                                   [1, 3, "h", "w"])],
                               [onnx.helper.make_tensor_value_info(y, onnx.TensorProto.FLOAT, [1, 2, "h", "w"])],
                               b.inits)
    p = tmp_path / "fcn.onnx"
    onnx.save(onnx.helper.make_model(g, opset_imports=[onnx.helper.make_opsetid("", 13)], ir_version=8), p)
    data = np.random.default_rng(0).normal(0, 1, (16, 3, 12, 10)).astype(np.float32)
    m = convert(p, [data[:12]], ConvertOptions(progress=False, input_shapes={"x": (1, 3, 12, 10)}))
    r = compare_layers(p, m, [data[12:]])
    compared = [row for row in r["layers"] if row["compared"]]
    assert len(compared) == len(r["layers"]) == 2
    assert all(row["cosine"] > 0.99 for row in compared)


def test_cli_validate_layers_json(tmp_path):
    out = tmp_path / "kws.enn"
    enn.save(convert_tflite_bytes(KWS.read_bytes(), "kws", str(KWS)), out)
    x = tmp_path / "x.npy"
    np.save(x, _kws_inputs(enn.load(out), 4)[0])
    r = subprocess.run([sys.executable, "-m", "edgenn", "validate", str(KWS), str(out), "--data", str(x),
                        "--layers", "--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["layers"]["first_mismatch"] is None
    assert len(rep["layers"]["layers"]) == len(enn.load(out).ops)
