"""ONNX Resize (opset 10, 11, 13, 18+) and Upsample (opset 7, 9): every coordinate and rounding mode
converts to resize_bilinear / resize_nearest and stays within one output step of onnxruntime's
float result (nearest: half a step, it only copies); variants without an exact counterpart are
refused with a message naming the attribute."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.errors import UnsupportedOpError
from edgenn.runtime_py import dataio
from edgenn.runtime_py.interpreter import Interpreter
from edgenn.validate import validate


def _model(node: onnx.NodeProto, in_shape, out_shape, inits=(), opset: int = 13) -> onnx.ModelProto:
    g = helper.make_graph([node], "resize", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))], list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=8 if opset < 21 else 10)


def _floats(name, vals):
    return helper.make_tensor(name, TensorProto.FLOAT, [len(vals)], list(vals))


def _ints(name, vals):
    return helper.make_tensor(name, TensorProto.INT64, [len(vals)], list(vals))


def steps_from_onnxruntime(tmp_path: Path, model: onnx.ModelProto, in_shape, samples: int = 16):
    """(converted model, max |int8 result - onnxruntime| in output steps) on smooth random images."""
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    rng = np.random.default_rng(0)
    # smooth images (a coarse random field upsampled) plus noise: what resizes see in a network
    coarse = rng.normal(0, 1, (samples,) + tuple(in_shape[1:2]) + (3, 3)).astype(np.float32)
    yy = np.linspace(0, 2, in_shape[2])[:, None]
    xx = np.linspace(0, 2, in_shape[3])[None, :]
    smooth = sum(coarse[:, :, i, j][..., None, None] * np.exp(-((yy - i) ** 2 + (xx - j) ** 2))
                 for i in range(3) for j in range(3))
    data = (smooth + rng.normal(0, 0.1, smooth.shape)).astype(np.float32).reshape((samples,) + tuple(in_shape))
    m = convert(p, [data], ConvertOptions(progress=False))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = np.stack([sess.run(None, {"x": d})[0] for d in data])
    xq = dataio.to_internal(m, [data])
    got = dataio.from_internal(m, Interpreter(m).invoke(*xq), as_float=True)[0].reshape(want.shape)
    t = m.tensors[m.outputs[0].tensor]
    return m, float(np.max(np.abs(got - want)) / float(t.scale[0])), p, data


def linear_allowance(m, data: np.ndarray, coord: str, scales) -> float:
    """One output step (half for the input's rounding, half for the output's) plus what the kernel's
    coordinates in 1/1024 (TFLM's 10-bit scale, or onnxruntime's coordinate rounded) move the result:
    the largest coordinate error in pixels times the largest step between neighbouring input pixels."""
    from edgenn.converter.ops.common import onnx_source_coords

    o = m.ops[0].options
    t = m.tensors[m.ops[0].inputs[0]]
    q = np.round(data / float(t.scale[0]))
    grad = max(np.abs(np.diff(q, axis=-2)).max(initial=0), np.abs(np.diff(q, axis=-1)).max(initial=0))
    err = 0.0
    for k, (lo, frac, size) in enumerate((("y0", "fy", data.shape[-2]), ("x0", "fx", data.shape[-1]))):
        out = len(o[lo])
        exact = np.clip(onnx_source_coords(coord, size, out, None if scales is None else scales[k]), 0, size - 1)
        err = max(err, float(np.max(np.abs(np.clip(o[lo] + o[frac] / 1024.0, 0, size - 1) - exact))))
    return 1.0 + err * float(grad)


LINEAR_COORDS = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"]
NEAREST = [("asymmetric", "floor"), ("half_pixel", "round_prefer_floor"), ("half_pixel", "round_prefer_ceil"),
           ("align_corners", "round_prefer_ceil"), ("tf_half_pixel_for_nn", "floor"), ("asymmetric", "ceil"),
           ("pytorch_half_pixel", "round_prefer_floor")]
SCALES = [(2.0, 2.0), (3.0, 1.5), (0.5, 0.75), (1.7, 2.3)]


@pytest.mark.parametrize("coord", LINEAR_COORDS)
@pytest.mark.parametrize("scales", SCALES)
def test_linear_opset11_scales(tmp_path, coord, scales):
    in_shape = (1, 3, 6, 8)
    out_shape = (1, 3, int(6 * scales[0]), int(8 * scales[1]))
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="linear", coordinate_transformation_mode=coord)
    model = _model(node, in_shape, out_shape, [_floats("roi", []), _floats("scales", [1, 1, *scales])], opset=11)
    m, steps, _, data = steps_from_onnxruntime(tmp_path, model, in_shape)
    assert [o.type for o in m.ops] == ["resize_bilinear"]
    bound = linear_allowance(m, data, coord, scales)
    assert bound < 1.5 and steps <= bound, f"{coord} {scales}: {steps:.3f} output steps from onnxruntime (bound {bound:.3f})"


@pytest.mark.parametrize("coord, nearest_mode", NEAREST)
@pytest.mark.parametrize("scales", SCALES)
def test_nearest_opset13_scales(tmp_path, coord, nearest_mode, scales):
    in_shape = (1, 2, 5, 7)
    out_shape = (1, 2, int(5 * scales[0]), int(7 * scales[1]))
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest", coordinate_transformation_mode=coord,
                            nearest_mode=nearest_mode)
    model = _model(node, in_shape, out_shape, [_floats("scales", [1, 1, *scales])], opset=13)
    m, steps, _, _ = steps_from_onnxruntime(tmp_path, model, in_shape)
    assert [o.type for o in m.ops] == ["resize_nearest"]
    assert steps <= 0.5 + 1e-6, f"{coord}/{nearest_mode} {scales}: {steps:.3f} output steps from onnxruntime"


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("opset, axes", [(13, None), (18, [2, 3]), (19, None)])
def test_sizes_input(tmp_path, mode, opset, axes):
    in_shape, out_shape = (1, 4, 5, 6), (1, 4, 9, 13)
    sizes = list(out_shape[2:]) if axes else list(out_shape)
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode=mode,
                            **({"axes": axes} if axes else {}))
    model = _model(node, in_shape, out_shape, [_ints("sizes", sizes)], opset=opset)
    m, steps, _, data = steps_from_onnxruntime(tmp_path, model, in_shape)
    assert m.ops[0].type == ("resize_nearest" if mode == "nearest" else "resize_bilinear")
    assert steps <= (0.5 + 1e-6 if mode == "nearest" else linear_allowance(m, data, "half_pixel", None))


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("scales", [(2.0, 2.0), (0.5, 0.5), (1.5, 2.5)])
def test_opset10_resize(tmp_path, mode, scales):
    in_shape = (1, 3, 6, 6)
    out_shape = (1, 3, int(6 * scales[0]), int(6 * scales[1]))
    node = helper.make_node("Resize", ["x", "scales"], ["y"], mode=mode)
    model = _model(node, in_shape, out_shape, [_floats("scales", [1, 1, *scales])], opset=10)
    m, steps, _, data = steps_from_onnxruntime(tmp_path, model, in_shape)
    assert steps <= (0.5 + 1e-6 if mode == "nearest" else linear_allowance(m, data, "asymmetric", scales))


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("opset", [7, 9])
def test_upsample(tmp_path, mode, opset):
    in_shape, out_shape = (1, 3, 5, 4), (1, 3, 10, 12)
    if opset < 9:
        node = helper.make_node("Upsample", ["x"], ["y"], mode=mode, scales=[1.0, 1.0, 2.0, 3.0])
        inits = []
    else:
        node = helper.make_node("Upsample", ["x", "scales"], ["y"], mode=mode)
        inits = [_floats("scales", [1, 1, 2, 3])]
    model = _model(node, in_shape, out_shape, inits, opset=opset)
    m, steps, p, data = steps_from_onnxruntime(tmp_path, model, in_shape)
    assert steps <= (0.5 + 1e-6 if mode == "nearest" else linear_allowance(m, data, "asymmetric", (2.0, 3.0)))
    rep = validate(p, m, [data], None, ["python", "host"], progress=False)
    assert rep["backends"]["host"]["mismatched_bytes"] == 0


@pytest.mark.parametrize("attrs, inits, message", [
    ({"mode": "cubic"}, None, "mode='cubic'"),
    ({"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize"}, None, "tf_crop_and_resize"),
    ({"mode": "linear", "antialias": 1}, "down", "antialias=1"),
    ({"mode": "nearest", "keep_aspect_ratio_policy": "not_larger"}, "sizes", "keep_aspect_ratio_policy"),
    ({"mode": "nearest"}, "channels", "only the spatial axes"),
])
def test_variants_without_counterpart_are_refused(tmp_path, attrs, inits, message):
    in_shape = (1, 2, 4, 4)
    if inits == "sizes":
        out_shape, init = (1, 2, 8, 6), [_ints("sizes", [1, 2, 8, 6])]
        node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], **attrs)
    else:
        s = {"down": [1, 1, 0.5, 0.5], "channels": [1, 2, 2, 2]}.get(inits, [1, 1, 2, 2])
        out_shape, init = tuple(int(a * b) for a, b in zip(in_shape, s)), [_floats("scales", s)]
        node = helper.make_node("Resize", ["x", "", "scales"], ["y"], **attrs)
    p = tmp_path / "bad.onnx"
    onnx.save(_model(node, in_shape, out_shape, init, opset=19), p)
    with pytest.raises(UnsupportedOpError, match=message) as e:
        convert(p, [np.zeros((2,) + in_shape[1:], np.float32)], ConvertOptions(progress=False))
    assert "Resize" in str(e.value) and "\n" not in str(e.value)
