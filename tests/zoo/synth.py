"""Compact ONNX fixtures: real exported graphs whose large weights are replaced by statistics.

``strip`` keeps every node, attribute, small initializer and Constant of an exported model (and
every 1-D float initializer up to 4,096 elements: biases, BatchNorm parameters) and replaces each
other float initializer of more than 256 elements by a float16 tensor of shape (2, C) (the mean and standard
deviation of each slice along axis 0, C = dims[0]; C = 1 for a 1-D tensor), listing the original
shapes in the model's metadata (``edgenn.zoo.synth``). ``rebuild`` turns such a file back into a
valid ONNX model: each stripped tensor is drawn from a normal distribution seeded by its name and
shape (the name is its rank among the stripped tensors in the order the nodes first read them, so
that exports of one model at two opsets get the same weights), rescaled so that every slice has exactly the recorded mean and standard deviation. The
graph is exactly what the exporter wrote; only the values of the large weights differ.

Only numpy and onnx are needed here (CI has no PyTorch); tests/zoo/export_torch.py writes the files.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

KEY = "edgenn.zoo.synth"
#: Weights (2-D and more) with more elements than this are stripped; 1-D tensors up to KEEP_VECTOR
#: are kept whole (BatchNorm-folded biases cancel their channel's mean: regenerating them would not).
KEEP_ELEMENTS = 256
KEEP_VECTOR = 4096


def _seed(key: str, shape: tuple[int, ...]) -> int:
    return int.from_bytes(hashlib.sha256(f"{key}:{shape}".encode()).digest()[:8], "little")


def read_order(model: onnx.ModelProto, names: set[str]) -> dict[str, str]:
    """name -> its rank (as text) among ``names`` in the order the graph's nodes first read them."""
    order: dict[str, str] = {}
    for node in model.graph.node:
        for i in node.input:
            if i in names and i not in order:
                order[i] = str(len(order))
    for n in sorted(names - set(order)):  # unread (dead) tensors last
        order[n] = str(len(order))
    return order


def slice_stats(a: np.ndarray) -> np.ndarray:
    """(2, C) float16: mean and std of each slice along axis 0 (one slice for a 1-D tensor)."""
    rows = a.reshape(1, -1) if a.ndim == 1 else a.reshape(a.shape[0], -1)
    rows = rows.astype(np.float64)
    return np.stack([rows.mean(axis=1), rows.std(axis=1)]).astype(np.float16)


def regenerate(key: str, shape: tuple[int, ...], stats: np.ndarray) -> np.ndarray:
    """A float32 tensor of ``shape`` whose slices have the (mean, std) of ``stats``, seeded by ``key``."""
    rng = np.random.default_rng(_seed(key, tuple(shape)))
    c = stats.shape[1]
    z = rng.standard_normal((c, int(np.prod(shape)) // c))
    if z.shape[1] > 1:  # exactly the recorded moments, slice by slice
        z = (z - z.mean(axis=1, keepdims=True)) / z.std(axis=1, keepdims=True)
    mean, std = stats.astype(np.float64)
    return (mean[:, None] + std[:, None] * z).reshape(shape).astype(np.float32)


def strip(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` with its large float initializers replaced by their statistics."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    shapes: dict[str, list[int]] = {}
    for init in out.graph.initializer:
        size = int(np.prod(init.dims))
        if init.data_type != onnx.TensorProto.FLOAT or size <= (KEEP_VECTOR if len(init.dims) == 1 else KEEP_ELEMENTS):
            continue
        a = numpy_helper.to_array(init)
        stats = numpy_helper.from_array(slice_stats(a), init.name)
        shapes[init.name] = list(a.shape)
        init.CopyFrom(stats)
    for node in out.graph.node:  # the exporter's Constant nodes are small; a large one would be kept whole
        for att in node.attribute:
            if att.type == onnx.AttributeProto.TENSOR and int(np.prod(att.t.dims)) > KEEP_VECTOR:
                raise ValueError(f"Constant node {node.name} holds {int(np.prod(att.t.dims))} elements")
    del out.metadata_props[:]
    out.metadata_props.add(key=KEY, value=json.dumps(shapes, sort_keys=True))
    return out


def rebuild(model: onnx.ModelProto) -> onnx.ModelProto:
    """The valid ONNX model of a stripped fixture (a copy; large weights regenerated)."""
    props = {p.key: p.value for p in model.metadata_props}
    if KEY not in props:
        raise ValueError("not a stripped zoo fixture (no edgenn.zoo.synth metadata)")
    shapes = {k: tuple(v) for k, v in json.loads(props[KEY]).items()}
    out = onnx.ModelProto()
    out.CopyFrom(model)
    order = read_order(out, set(shapes))
    for init in out.graph.initializer:
        if init.name in shapes:
            stats = numpy_helper.to_array(init)
            init.CopyFrom(numpy_helper.from_array(regenerate(order[init.name], shapes[init.name], stats), init.name))
    del out.metadata_props[:]
    return out


def load(path: str | Path) -> onnx.ModelProto:
    """Read a stripped fixture and rebuild it."""
    return rebuild(onnx.load(str(path)))


def materialize(path: str | Path, directory: str | Path) -> Path:
    """Write the rebuilt model of fixture ``path`` into ``directory``; its path."""
    dst = Path(directory) / Path(path).name
    onnx.save(load(path), str(dst))
    return dst
