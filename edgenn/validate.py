"""Check a converted model: every backend against the Python reference (bytes), and the int8
model against the source model (float ONNX via onnxruntime, or TFLM for int8 .tflite)."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from edgenn.emulation import backends as be
from edgenn.errors import DataError, read_file
from edgenn.runtime_py import dataio
from edgenn.format.enn import EnnModel


def top1(y: np.ndarray) -> np.ndarray:
    return np.argmax(y.reshape(y.shape[0], -1), axis=1)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64).ravel()
    b = b.astype(np.float64).ravel()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return float(na == nb)
    return float(a @ b / (na * nb))


def float_inputs(model: EnnModel, data: list[np.ndarray]) -> list[np.ndarray]:
    """The user's data as float in the source layout (int8 data is dequantized)."""
    res = []
    for d, arr in zip(model.inputs, data):
        t = model.tensors[d.tensor]
        a = dataio.source_batches(arr, tuple(d.source_shape or t.shape), "data", d.source_name)
        res.append(dataio.dequantize(a, t) if a.dtype == np.int8 else a.astype(np.float32))
    return res


def check_source(source: str | Path, model: EnnModel) -> None:
    """Refuse a source model other than the one ``model`` was converted from (the .enn stores its
    sha256): its outputs would be compared with another network's."""
    want = model.provenance.get("source_sha256", "")
    if not want:
        return
    have = hashlib.sha256(read_file(source, "source model")).hexdigest()
    if have != want:
        was = model.provenance.get("source_file", "")
        raise DataError(f"{source} is not the model {model.name!r} was converted from ("
                        + (f"{was!r}, " if was else "") + f"sha256 {want[:12]}..., this file {have[:12]}...): "
                        "give the source model it was converted from, or convert this one")


def reference_outputs(source: str | Path, model: EnnModel, data: list[np.ndarray],
                      x_int8: list[np.ndarray], progress: bool) -> tuple[str, list[np.ndarray], list[np.ndarray] | None]:
    """(kind, float outputs in source layout, int8 outputs in internal layout or None)."""
    from edgenn.converter.pipeline import detect_format

    check_source(source, model)

    if detect_format(source) == "tflite":
        from edgenn.emulation.tflm import run_tflm_file

        outs = run_tflm_file(source, model, x_int8)
        return "tflm", dataio.from_internal(model, outs, as_float=True), outs
    import onnx

    from edgenn.converter.calibrate import run_float

    m = onnx.load(str(source))
    have = {i.name for i in m.graph.input} | {o.name for o in m.graph.output}
    lacking = [d.source_name for d in model.inputs + model.outputs if d.source_name not in have]
    if lacking:  # an .enn without the source's sha256 (older files), from another model
        raise DataError(f"{source} has no input or output named {lacking[0]!r}, which {model.name!r} has: "
                        "give the source model it was converted from")
    xs = float_inputs(model, data)
    feeds = {d.source_name: x for d, x in zip(model.inputs, xs)}
    names = [d.source_name for d in model.outputs]
    res = run_float(m, feeds, names, progress=progress)
    return "onnxruntime", [np.stack(res[n]).reshape((xs[0].shape[0],) + tuple(d.source_shape))
                           for n, d in zip(names, model.outputs)], None


def validate(source: str | Path, model: EnnModel, data: list[np.ndarray], labels: np.ndarray | None = None,
             backends: list[str] = ("python",), board: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Every backend against the Python reference (bytes) and against the source model (top-1
    agreement and cosine, in total and per output; accuracy of the first output with labels)."""
    x_int8 = dataio.to_internal(model, data)
    n = x_int8[0].shape[0]
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape[0] != n:
            raise DataError(f"labels have {labels.shape[0]} entries for {n} samples")
    ref = be.run(model, x_int8, "python")
    kind, ref_float, ref_int8 = reference_outputs(source, model, data, x_int8, progress)
    names = [d.source_name for d in model.outputs]
    report: dict[str, Any] = {"samples": int(n), "reference": kind, "outputs": names, "backends": {}}
    if labels is not None:
        # Accuracy is of the first output; the reference is TFLM's int8 model for a .tflite source.
        report["reference_accuracy"] = float(np.mean(top1(ref_float[0]) == labels))
        if kind == "onnxruntime":
            report["float_accuracy"] = report["reference_accuracy"]
    for name in backends:
        outs = ref if name == "python" else be.run(model, x_int8, name, board)
        mism = int(sum(np.count_nonzero(a != b) for a, b in zip(outs, ref)))
        deq = dataio.from_internal(model, outs, as_float=True)
        entry: dict[str, Any] = {
            "mismatched_bytes": mism,
            "top1_agreement": float(np.mean(top1(deq[0]) == top1(ref_float[0]))),
            "cosine": cosine(np.concatenate([d.ravel() for d in deq]), np.concatenate([r.ravel() for r in ref_float])),
            "outputs": [],
        }
        for k, out_name in enumerate(names):
            per: dict[str, Any] = {"name": out_name, "mismatched_bytes": int(np.count_nonzero(outs[k] != ref[k])),
                                   "top1_agreement": float(np.mean(top1(deq[k]) == top1(ref_float[k]))),
                                   "cosine": cosine(deq[k], ref_float[k])}
            if ref_int8 is not None:
                per["tflm_mismatched_bytes"] = int(np.count_nonzero(outs[k] != ref_int8[k]))
            entry["outputs"].append(per)
        if ref_int8 is not None:
            entry["tflm_mismatched_bytes"] = int(sum(np.count_nonzero(a != b) for a, b in zip(outs, ref_int8)))
        if labels is not None:
            entry["accuracy"] = float(np.mean(top1(deq[0]) == labels))
        if name == "qemu":
            entry["board"] = board or "mps2-an386"
        report["backends"][name] = entry
    report["bit_exact"] = all(b["mismatched_bytes"] == 0 and b.get("tflm_mismatched_bytes", 0) == 0
                              for b in report["backends"].values())
    return report
