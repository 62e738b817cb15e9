"""The conversion entry point: a model file (+ calibration data) -> EnnModel."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgenn import __version__
from edgenn.converter.graph import Graph
from edgenn.converter.lower import to_enn
from edgenn.errors import DataError, ModelFormatError, read_file
from edgenn.runtime_py.enn import EnnModel


@dataclass
class ConvertOptions:
    name: str | None = None
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    progress: bool = True
    calib_method: str = "minmax"
    calib_percentile: float = 99.99
    compress: str | None = None  # lossless weight compression: "auto", "huffman" or "palette"

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "input_shapes": {k: list(v) for k, v in self.input_shapes.items()},
                           "calib_method": self.calib_method, "calib_percentile": self.calib_percentile,
                           "compress": self.compress},
                          sort_keys=True)


def detect_format(path: str | Path) -> str:
    p = Path(path)
    head = read_file(p, limit=8)
    if head[4:8] == b"TFL3":
        return "tflite"
    if p.suffix.lower() == ".tflite":
        raise ModelFormatError(f"{p}: not a TFLite flatbuffer (missing 'TFL3' identifier): corrupt or truncated?")
    return "onnx"


def default_name(path: str | Path) -> str:
    """The file name, or the folder's when the file has a generic name (examples/digits/model.onnx)."""
    p = Path(path).resolve()
    return p.parent.name if p.stem.lower() in ("model", "net", "network") and p.parent.name else p.stem


def import_graph(path: str | Path, calib: list[np.ndarray] | None, options: ConvertOptions) -> Graph:
    """Import (and for float models: simplify, calibrate, quantize) to a quantized graph."""
    fmt = detect_format(path)
    if fmt == "tflite":
        from edgenn.converter.tflite_import import import_tflite

        return import_tflite(Path(path).read_bytes(), str(path))
    from edgenn.converter.calibrate import calibrate
    from edgenn.converter.onnx_import import import_onnx
    from edgenn.converter.passes import simplify
    from edgenn.converter.quantize import quantize

    g, model = import_onnx(path, options.input_shapes)
    simplify(g)
    if calib is None:
        raise DataError("a float ONNX model needs calibration data: pass --calib data.npy "
                        "(a few hundred representative inputs)")
    if len(calib) != len(g.inputs):
        raise DataError(f"the model has {len(g.inputs)} inputs but {len(calib)} calibration arrays were given")
    ranges = calibrate(model, g, calib, progress=options.progress, method=options.calib_method,
                       percentile=options.calib_percentile)
    quantize(g, ranges)
    return g


def convert(path: str | Path, calib: list[np.ndarray] | None = None, options: ConvertOptions | None = None) -> EnnModel:
    """Convert an ONNX (float) or TFLite (int8) model to an EnnModel."""
    options = options or ConvertOptions()
    g = import_graph(path, calib, options)
    if options.compress:
        from edgenn.converter.compress import compress_weights

        compress_weights(g, options.compress)
    prov: dict[str, Any] = {"tool_version": __version__, "source_format": g.source_format,
                            "source_file": Path(path).name, "source_sha256": g.source_sha256,
                            "options_json": options.to_json()}
    return to_enn(g, options.name or default_name(path), prov)
