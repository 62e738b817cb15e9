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
from edgenn.converter.shrink.transforms import PruneSpec, transform, wants_transforms
from edgenn.errors import DataError, ModelFormatError, read_file
from edgenn.format.enn import EnnModel
from edgenn.progress import step


@dataclass
class ConvertOptions:
    name: str | None = None
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    progress: bool = True
    calib_method: str = "minmax"
    calib_percentile: float = 99.99
    compress: str | None = None  # lossless weight compression: "auto", "huffman" or "palette"
    prune: tuple[PruneSpec, ...] = ()  # structured / unstructured pruning (float ONNX models)
    prune_saliency: str = "l1"
    cluster: int | None = None  # k-means weight sharing into at most this many values per layer
    only_layers: frozenset[str] | None = None  # restrict pruning/clustering to these operators (sensitivity)
    # Recurrent state between calls: True keeps it (streaming), False resets it every call, None: the
    # source's convention (ONNX: reset; TFLite: kept, as TFLM keeps variable tensors).
    stateful: bool | None = None

    def to_json(self) -> str:
        d: dict[str, Any] = {"name": self.name, "input_shapes": {k: list(v) for k, v in self.input_shapes.items()},
                             "calib_method": self.calib_method, "calib_percentile": self.calib_percentile,
                             "compress": self.storage_compression}
        if self.stateful is not None:
            d["stateful"] = self.stateful
        if self.prune or self.cluster is not None:
            d.update(prune=[str(p) for p in self.prune], prune_saliency=self.prune_saliency, cluster=self.cluster)
            if self.only_layers is not None:
                d["only_layers"] = sorted(self.only_layers)
        return json.dumps(d, sort_keys=True)

    @property
    def storage_compression(self) -> str | None:
        """The weight encoding to use: as asked, or a palette for weights clustered into <= 16 values."""
        if self.compress:
            return self.compress
        return "palette" if self.cluster is not None and self.cluster <= 16 else None


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
    """Import (and for float models: simplify, transform, calibrate, quantize) to a quantized graph.

    The reports of the float transforms (pruning, clustering) are left in ``graph.transform_report``.
    """
    fmt = detect_format(path)
    transforms = wants_transforms(options.prune, options.cluster)
    if fmt == "tflite":
        from edgenn.converter.tflite_import import import_tflite

        if options.input_shapes:
            raise DataError(f"{path}: --input-shape applies to ONNX models; a .tflite model has static shapes")
        if transforms:
            raise DataError("pruning and clustering need a float ONNX model (they change the float weights and "
                            "recalibrate); a .tflite is already quantized: --compress still applies to it")
        g = import_tflite(Path(path).read_bytes(), str(path))
        if options.stateful is not None:
            g.stateful = options.stateful
        return g
    from edgenn.converter.calibrate import calibrate, calibrate_graph
    from edgenn.converter.onnx_import import import_onnx
    from edgenn.converter.ops import rule
    from edgenn.converter.passes import simplify
    from edgenn.converter.quantize import quantize

    with step(f"reading {Path(path).name}"):
        g, model = import_onnx(path, options.input_shapes, streaming=bool(options.stateful))
    with step("folding and fusing"):
        simplify(g)
    g.stateful = bool(options.stateful)
    if calib is None:
        raise DataError("a float ONNX model needs calibration data: pass --calib data.npy "
                        "(a few hundred representative inputs)")
    if len(calib) != len(g.inputs):
        raise DataError(f"the model has {len(g.inputs)} inputs but {len(calib)} calibration arrays were given")
    if not transforms and any(getattr(rule(op.type), "CALIBRATE_GRAPH", False) for op in g.ops):
        # Recurrent layers' internal state ranges (an LSTM's cell) are no ONNX values: calibrate on
        # the float graph itself. A streaming model (--stateful with a shorter --input-shape) is
        # calibrated on whole sequences: the same graph imported at the model's own shapes, whose
        # tensors have the same names.
        g_cal = g
        if g.stateful and options.input_shapes:
            g_cal, _ = import_onnx(path)
            simplify(g_cal)
        ranges = calibrate_graph(g_cal, calib, progress=options.progress, method=options.calib_method,
                                 percentile=options.calib_percentile)
        missing = [t.name for t in g.tensors.values() if not t.is_const and t.dtype == "float32"
                   and t.name not in ranges]
        if missing:
            raise DataError(f"{path}: the streaming graph differs from the whole-sequence one at {missing[0]!r}: "
                            "the layers around the recurrent ones must not depend on the sequence length")
        quantize(g, ranges, by_name=True)
        return g
    if transforms:
        g.transform_report = transform(g, calib, options.prune, options.cluster, options.prune_saliency,
                                       set(options.only_layers) if options.only_layers is not None else None)
        ranges = calibrate_graph(g, calib, progress=options.progress, method=options.calib_method,
                                 percentile=options.calib_percentile)
        with step("quantizing"):
            quantize(g, ranges, by_name=True)
        return g
    ranges = calibrate(model, g, calib, progress=options.progress, method=options.calib_method,
                       percentile=options.calib_percentile)
    with step("quantizing"):
        quantize(g, ranges)
    return g


@dataclass
class Conversion:
    """The result of a conversion: the model, and the reports of what the float transforms
    (pruning, clustering) did, which the .enn file does not store."""

    model: EnnModel
    transform_report: dict[str, Any] = field(default_factory=dict)


def convert_with_report(path: str | Path, calib: list[np.ndarray] | None = None,
                        options: ConvertOptions | None = None) -> Conversion:
    """Convert an ONNX (float) or TFLite (int8) model; the model and the transforms' reports."""
    options = options or ConvertOptions()
    g = import_graph(path, calib, options)
    if options.storage_compression:
        from edgenn.converter.shrink.compress import compress_weights

        with step("compressing weights"):
            compress_weights(g, options.storage_compression)
    prov: dict[str, Any] = {"tool_version": __version__, "source_format": g.source_format,
                            "source_file": Path(path).name, "source_sha256": g.source_sha256,
                            "options_json": options.to_json()}
    return Conversion(to_enn(g, options.name or default_name(path), prov), g.transform_report)


def convert(path: str | Path, calib: list[np.ndarray] | None = None, options: ConvertOptions | None = None) -> EnnModel:
    """Convert an ONNX (float) or TFLite (int8) model to an EnnModel."""
    return convert_with_report(path, calib, options).model
