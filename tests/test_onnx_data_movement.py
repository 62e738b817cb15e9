"""ONNX data-movement operators as exporters emit them (Slice, Split, Gather, Expand, Tile,
DepthToSpace, SpaceToDepth, Pad reflect / edge, a channel shuffle, Dropout with its mask,
Squeeze / Unsqueeze around them): each small model converts, the generated C gives runtime_py's
bytes, and the int8 result is onnxruntime's float result within the input's quantization (these
operators only move bytes: at most half an LSB off).

Most models run twice: on the graph input as is (ONNX layout) and behind a 1x1 MaxPool, which
makes edgenn store the tensor in NHWC, so axes must be mapped through the stored layout."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgenn.converter.calibrate import run_float
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.emulation import backends as be
from edgenn.runtime_py import dataio

from onnx_models import model_of

INT64_MAX = np.iinfo(np.int64).max


def make(nodes, inits: dict, in_shape, outputs: list[str], opset: int = 13, nhwc: bool = False) -> onnx.ModelProto:
    """A model of ``nodes`` reading "x" ((N, C, H, W)...); with ``nhwc``, "x" comes from a 1x1 MaxPool
    of the input "inp" (so it is stored NHWC)."""
    nodes = list(nodes)
    if nhwc:
        nodes.insert(0, helper.make_node("MaxPool", ["inp"], ["x"], kernel_shape=[1, 1], name="pool"))
    inp = "inp" if nhwc else "x"
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info(inp, TensorProto.FLOAT, list(in_shape))],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                          [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    return model_of(g, opset)


def check(tmp_path: Path, model: onnx.ModelProto, backends=("python", "host"), max_lsb: float = 0.5,
          samples: int = 12):
    """Convert; every backend gives runtime_py's bytes; runtime_py within max_lsb of onnxruntime."""
    p = tmp_path / "m.onnx"
    onnx.save(model, p)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    data = [np.random.default_rng(7).uniform(-2, 2, (samples,) + tuple(shape)).astype(np.float32)]
    m = convert(p, data, ConvertOptions(progress=False))
    x = dataio.to_internal(m, data)
    ref = be.run(m, x, "python")
    for b in backends:
        if b != "python":
            got = be.run(m, x, b)
            assert all(np.array_equal(a, c) for a, c in zip(ref, got)), f"{b} differs from python"
    names = [o.name for o in model.graph.output]
    want = run_float(model, {model.graph.input[0].name: data[0]}, names)
    deq = dataio.from_internal(m, ref, as_float=True)
    for k, (name, d) in enumerate(zip(names, deq)):
        w = np.stack(want[name]).reshape(d.shape)
        scale = float(m.tensors[m.outputs[k].tensor].scale[0])
        err = float(np.max(np.abs(d - w))) / scale
        assert err <= max_lsb + 1e-3, f"output {name}: {err:.3f} LSB from onnxruntime"
    return m


def types(m) -> list[str]:
    return [op.type for op in m.ops]


# ---------------------------------------------------------------------- Slice

SLICES = {  # name: (starts, ends, axes, steps)
    "h_rows": ([1], [3], [2], None),
    "negative_and_clamped": ([-3, 0], [INT64_MAX, -1], [3, 1], None),
    "steps": ([0, 4], [6, 0], [2, 3], [2, -1]),
    "negative_step_to_start": ([-1], [-INT64_MAX], [1], [-2]),
    "negative_axis": ([1], [2], [-2], None),
    "all_axes_default": ([0, 1, 1, 0], [1, 4, 5, 6], None, None),
}


@pytest.mark.parametrize("nhwc", [False, True])
@pytest.mark.parametrize("case", sorted(SLICES))
def test_slice_opset13(tmp_path, case, nhwc):
    starts, ends, axes, steps = SLICES[case]
    inits = {"starts": np.asarray(starts, np.int64), "ends": np.asarray(ends, np.int64)}
    ins = ["x", "starts", "ends"]
    if axes is not None or steps is not None:
        inits["axes"] = np.asarray(axes if axes is not None else range(len(starts)), np.int64)
        ins.append("axes")
    if steps is not None:
        inits["steps"] = np.asarray(steps, np.int64)
        ins.append("steps")
    m = check(tmp_path, make([helper.make_node("Slice", ins, ["y"])], inits, (1, 4, 5, 6), ["y"], nhwc=nhwc))
    assert "slice" in types(m)


def test_slice_opset1_attributes(tmp_path):
    node = helper.make_node("Slice", ["x"], ["y"], starts=[1, -2], ends=[3, 1000], axes=[1, 3])
    m = check(tmp_path, make([node], {}, (1, 4, 5, 6), ["y"], opset=9, nhwc=True))
    assert "slice" in types(m)


def test_slice_of_rows_is_an_alias(tmp_path):
    """Rows of an NHWC tensor are contiguous: the slice output is placed on the input's bytes."""
    node = helper.make_node("Slice", ["x", "s", "e", "a"], ["y"])
    relu = helper.make_node("Relu", ["y"], ["z"])
    inits = {"s": np.asarray([2], np.int64), "e": np.asarray([4], np.int64), "a": np.asarray([2], np.int64)}
    m = check(tmp_path, make([node, relu], inits, (1, 4, 6, 8), ["z"], nhwc=True))
    op = next(o for o in m.ops if o.type == "slice")
    x, y = m.tensors[op.inputs[0]], m.tensors[op.outputs[0]]
    assert y.arena_offset - x.arena_offset == 2 * 8 * 4  # rows 2.. of (1, H=6, W=8, C=4)


# ---------------------------------------------------------------------- Split

@pytest.mark.parametrize("nhwc", [False, True])
@pytest.mark.parametrize("form", ["attribute_opset11", "input_opset13", "equal_opset13", "num_outputs_opset18"])
def test_split(tmp_path, form, nhwc):
    opset = int(form[-2:])
    inits = {}
    if form == "attribute_opset11":
        node = helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, split=[1, 2, 3])
    elif form == "input_opset13":
        inits["sp"] = np.asarray([2, 4], np.int64)
        node = helper.make_node("Split", ["x", "sp"], ["a", "b"], axis=-1)
    elif form == "equal_opset13":
        node = helper.make_node("Split", ["x"], ["a", "b", "c"], axis=3)
    else:
        node = helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3)  # 6 -> 2, 2, 2
    outs = [o for o in node.output]
    # consume the pieces in another order: a concat of the reversed outputs, and each output itself
    cat = helper.make_node("Concat", outs[::-1], ["cat"], axis=int(helper.get_attribute_value(node.attribute[0])))
    m = check(tmp_path, make([node, cat], inits, (1, 6, 3, 6), outs + ["cat"], opset=opset, nhwc=nhwc))
    assert "split" in types(m)


# ---------------------------------------------------------------------- Gather

@pytest.mark.parametrize("nhwc", [False, True])
@pytest.mark.parametrize("case", ["scalar_channel", "vector_channel", "matrix_h", "negative_w", "scalar_h"])
def test_gather(tmp_path, case, nhwc):
    idx, axis = {"scalar_channel": (np.asarray(2, np.int64), 1), "vector_channel": (np.asarray([3, 0, 0], np.int64), 1),
                 "matrix_h": (np.asarray([[0, 4], [2, 1]], np.int64), 2),
                 "negative_w": (np.asarray([-1, -6], np.int64), 3), "scalar_h": (np.asarray(-2, np.int64), 2)}[case]
    node = helper.make_node("Gather", ["x", "i"], ["y"], axis=axis)
    m = check(tmp_path, make([node], {"i": idx}, (1, 4, 5, 6), ["y"], nhwc=nhwc))
    assert "gather" in types(m)


def test_gather_on_constant_data_is_folded(tmp_path):
    """Gather of a constant table by constant indices is a constant (an embedding row added to x)."""
    table = np.random.default_rng(3).normal(0, 1, (5, 6)).astype(np.float32)
    nodes = [helper.make_node("Gather", ["table", "i"], ["row"], axis=0),
             helper.make_node("Add", ["x", "row"], ["y"])]
    m = check(tmp_path, make(nodes, {"table": table, "i": np.asarray([3], np.int64)}, (1, 4, 5, 6), ["y"]),
              max_lsb=1.0)
    assert "gather" not in types(m)


# ---------------------------------------------------------------------- Expand, Tile

@pytest.mark.parametrize("nhwc", [False, True])
@pytest.mark.parametrize("case", ["expand_same_rank", "expand_higher_rank", "tile"])
def test_expand_and_tile(tmp_path, case, nhwc):
    if case == "tile":
        nodes, inits = [helper.make_node("Tile", ["x", "r"], ["y"])], {"r": np.asarray([1, 2, 1, 3], np.int64)}
        shape = (1, 3, 2, 4)
    else:
        row = [helper.make_node("Slice", ["x", "r0", "r1", "ra"], ["x1"])]  # (1, 3, 1, 4)
        target = [1, 3, 5, 4] if case == "expand_same_rank" else [2, 1, 3, 5, 4]
        nodes = row + [helper.make_node("Expand", ["x1", "s"], ["y"])]
        inits = {"s": np.asarray(target, np.int64), "r0": np.asarray([1], np.int64), "r1": np.asarray([2], np.int64),
                 "ra": np.asarray([2], np.int64)}
        shape = (1, 3, 2, 4)
    m = check(tmp_path, make(nodes, inits, shape, ["y"], nhwc=nhwc))
    assert "tile" in types(m)


# ---------------------------------------------------------------------- DepthToSpace, SpaceToDepth

@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space(tmp_path, mode):
    node = helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode=mode)
    m = check(tmp_path, make([node], {}, (1, 8, 3, 4), ["y"], nhwc=True))
    assert "transpose" in types(m) and len(m.tensors[m.ops[types(m).index("transpose")].inputs[0]].shape) == 6


def test_space_to_depth(tmp_path):
    node = helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=2)
    check(tmp_path, make([node], {}, (1, 3, 4, 6), ["y"], nhwc=True))


# ---------------------------------------------------------------------- Pad reflect / edge

@pytest.mark.parametrize("nhwc", [False, True])
@pytest.mark.parametrize("mode", ["reflect", "edge"])
def test_pad_reflect_and_edge(tmp_path, mode, nhwc):
    pads = np.asarray([0, 0, 2, 1, 0, 0, 1, 3], np.int64)
    node = helper.make_node("Pad", ["x", "p"], ["y"], mode=mode)
    m = check(tmp_path, make([node], {"p": pads}, (1, 3, 4, 5), ["y"], nhwc=nhwc))
    assert "mirror_pad" in types(m)


def test_pad_reflect_opset2_attributes(tmp_path):
    node = helper.make_node("Pad", ["x"], ["y"], mode="reflect", pads=[0, 1, 1, 0, 0, 0, 2, 2])
    check(tmp_path, make([node], {}, (1, 3, 4, 5), ["y"], opset=9, nhwc=True))


# ---------------------------------------------------------------------- channel shuffle, Dropout, Squeeze

def shuffle_nodes(x: str, y: str, c: int, h: int, w: int, groups: int = 2) -> tuple[list, dict]:
    """PyTorch's channel_shuffle as exported: view(N, g, C/g, H, W), transpose(1, 2), view(N, C, H, W)."""
    inits = {f"{y}_s5": np.asarray([1, groups, c // groups, h, w], np.int64), f"{y}_s4": np.asarray([1, c, h, w], np.int64)}
    nodes = [helper.make_node("Reshape", [x, f"{y}_s5"], [f"{y}_r5"]),
             helper.make_node("Transpose", [f"{y}_r5"], [f"{y}_t5"], perm=[0, 2, 1, 3, 4]),
             helper.make_node("Reshape", [f"{y}_t5", f"{y}_s4"], [y])]
    return nodes, inits


def test_channel_shuffle_stays_nhwc(tmp_path):
    """Between two image operators the shuffle is one 5-D transpose between two reshapes (aliases):
    no transpose to NCHW and back."""
    nodes, inits = shuffle_nodes("x", "s", 8, 3, 5)
    nodes.append(helper.make_node("MaxPool", ["s"], ["y"], kernel_shape=[1, 1]))
    m = check(tmp_path, make(nodes, inits, (1, 8, 3, 5), ["y"], nhwc=True))
    assert types(m) == ["max_pool2d", "reshape", "transpose", "reshape", "max_pool2d"]
    t = m.ops[2]
    assert len(m.tensors[t.inputs[0]].shape) == 5 and list(t.options["perm"]) == [0, 1, 2, 4, 3]


@pytest.mark.parametrize("used", [False, True])
def test_dropout_mask(tmp_path, used):
    """Dropout in inference keeps everything: an unused mask is ignored, a used one is all true."""
    nodes = [helper.make_node("Dropout", ["x"], ["d", "mask"])]
    outs = ["d"]
    if used:
        nodes += [helper.make_node("Cast", ["mask"], ["mf"], to=TensorProto.FLOAT),
                  helper.make_node("Mul", ["d", "mf"], ["y"])]
        outs = ["y"]
    nodes.append(helper.make_node("Relu", [outs[0]], ["z"]))
    # a used mask multiplies by a constant 1 (requantized: about an LSB more)
    check(tmp_path, make(nodes, {}, (1, 3, 4, 5), ["z"], opset=13, nhwc=True), max_lsb=1.5 if used else 0.5)


def test_unsqueeze_slice_squeeze(tmp_path):
    """Opset-13 Unsqueeze / Squeeze with axes inputs around a Slice, and an Identity."""
    nodes = [helper.make_node("Unsqueeze", ["x", "ua"], ["u"]),
             helper.make_node("Slice", ["u", "s", "e", "a"], ["sl"]),
             helper.make_node("Identity", ["sl"], ["id"]),
             helper.make_node("Squeeze", ["id", "qa"], ["y"])]
    inits = {"ua": np.asarray([0], np.int64), "s": np.asarray([1], np.int64), "e": np.asarray([2], np.int64),
             "a": np.asarray([2], np.int64), "qa": np.asarray([0, 2], np.int64)}
    check(tmp_path, make(nodes, inits, (1, 4, 5, 6), ["y"], nhwc=True))


# ---------------------------------------------------------------------- errors

def test_several_unsupported_operators_are_listed_in_one_line(tmp_path):
    import subprocess
    import sys

    nodes = [helper.make_node("Hardmax", ["x"], ["a"], name="hm1"), helper.make_node("Hardmax", ["a"], ["b"], name="hm2"),
             helper.make_node("Einsum", ["b"], ["c"], equation="ijkl->ijkl", name="ein"),
             helper.make_node("Relu", ["c"], ["y"])]
    p = tmp_path / "bad.onnx"
    onnx.save(make(nodes, {}, (1, 3, 4, 5), ["y"]), p)
    calib = tmp_path / "c.npy"
    np.save(calib, np.zeros((2, 1, 3, 4, 5), np.float32))
    r = subprocess.run([sys.executable, "-m", "edgenn.cli", "convert", str(p), "--calib", str(calib), "-o",
                        str(tmp_path / "o.enn")], capture_output=True, text=True)
    assert r.returncode == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "3 operators of 2 unsupported types" in err
    assert "Hardmax x2 (first: node 'hm1')" in err and "Einsum x1 (first: node 'ein')" in err
    assert not (tmp_path / "o.enn").exists()
