"""The ONNX zoo's fixtures for tests and bench/coverage.py: rebuilt models, their inputs, conversion."""
from __future__ import annotations

import glob
import hashlib
from pathlib import Path

import numpy as np

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.format.enn import EnnModel

from . import data, synth

ONNX_DIR = Path(__file__).resolve().parent / "onnx"
TFLITE_DIR = Path(__file__).resolve().parent / "tflite"


def fixtures() -> dict[str, dict[int, Path]]:
    """model name -> {opset: stripped fixture path}."""
    res: dict[str, dict[int, Path]] = {}
    for p in sorted(ONNX_DIR.glob("*_op*.onnx")):
        name, opset = p.stem.rsplit("_op", 1)
        res.setdefault(name, {})[int(opset)] = p
    return res


def image_size(model_path: Path) -> int:
    """The height (= width) of the model's image input."""
    import onnx

    dims = onnx.load(str(model_path), load_external_data=False).graph.input[0].type.tensor_type.shape.dim
    return int(dims[2].dim_value)


def inputs(model_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(calibration, test) float inputs in the model's NCHW layout."""
    calib, test = data.load()
    size = image_size(model_path)
    return data.model_input(calib, size), data.model_input(test, size)


def materialize(fixture: Path, directory: Path) -> Path:
    """The rebuilt (valid, full-weight) ONNX model of a fixture, written into ``directory``."""
    return synth.materialize(fixture, directory)


def convert_fixture(fixture: Path, directory: Path) -> tuple[Path, EnnModel]:
    """(rebuilt ONNX path, converted model) with the zoo's calibration images."""
    path = materialize(fixture, directory)
    calib, _ = inputs(path)
    return path, convert(path, [calib], ConvertOptions(progress=False))


def computation_key(model: EnnModel) -> str:
    """A digest of what a model computes (operators, options, shapes, quantization, constants,
    arena plan), not of its names or provenance: equal keys give equal bytes on every backend."""
    h = hashlib.sha256()
    for t in model.tensors:
        h.update(repr((tuple(t.shape), t.dtype, np.asarray(t.scale).tobytes(), np.asarray(t.zero_point).tobytes(),
                       t.quant_axis, t.arena_offset, t.nbytes)).encode())
        if t.data is not None:
            h.update(np.ascontiguousarray(t.data).tobytes())
    for op in model.ops:
        opts = {k: (np.asarray(v).tobytes() if isinstance(v, np.ndarray) else v) for k, v in sorted(op.options.items())}
        h.update(repr((op.type, op.inputs, op.outputs, opts, op.scratch_offset, op.scratch_bytes)).encode())
    h.update(repr(([(i.tensor, i.source_shape, i.to_internal_perm) for i in model.inputs],
                   [(o.tensor, o.source_shape, o.to_internal_perm) for o in model.outputs], model.arena_bytes)).encode())
    return h.hexdigest()


def light_models() -> list[Path]:
    """The classic models shipped in the onnx wheel."""
    import onnx

    return [Path(p) for p in sorted(glob.glob(str(Path(onnx.__file__).parent / "backend/test/data/light/light_*.onnx")))]


def light_input(path: Path, n: int) -> np.ndarray:
    """Random natural-looking inputs for a light model: the zoo's images, nearest-resized, normalized."""
    import onnx

    m = onnx.load(str(path), load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    vi = next(i for i in m.graph.input if i.name not in inits)
    shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    imgs = np.concatenate(data.load())[:n].astype(np.float32) / 255.0
    idx = np.arange(shape[2]) * data.SIZE // shape[2]
    x = (imgs[:, idx][:, :, idx] - data.MEAN) / data.STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
