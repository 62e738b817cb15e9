"""Pruning sensitivity: how much accuracy (or agreement with the float model) each layer loses
when it alone is pruned at increasing ratios, on the user's data. Each point is a full int8
conversion run by runtime_py (the bit-exact reference of every backend), so it shows what the
deployed model would do, quantization included."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgenn.errors import DataError
from edgenn.progress import track

DEFAULT_RATIOS = (0.1, 0.3, 0.5, 0.7)


def candidate_layers(source: str | Path, kind: str) -> list[str]:
    """The layers that pruning of this kind can change, in graph order."""
    from edgenn.converter.shrink.unstructured import MIN_FAN_IN, fan_in_of
    from edgenn.converter.onnx_import import import_onnx
    from edgenn.converter.passes import simplify
    from edgenn.converter.shrink.bias_correction import weighted_ops

    g, _ = import_onnx(source, {})
    simplify(g)
    if kind == "structured":
        from edgenn.converter.shrink.structured import prunable_layers

        return prunable_layers(g)
    return [op.name for op in weighted_ops(g) if fan_in_of(op, g.tensors[op.inputs[1]].data) >= MIN_FAN_IN]


def sensitivity(source: str | Path, calib: list[np.ndarray], data: list[np.ndarray], labels: np.ndarray | None,
                kind: str = "structured", ratios: tuple[float, ...] = DEFAULT_RATIOS, saliency: str = "l1",
                progress: bool = True) -> dict[str, Any]:
    """Metric per (layer, ratio) and for all layers together; metric = accuracy with labels, else top-1
    agreement with the float model."""
    from edgenn.converter.pipeline import ConvertOptions, convert, detect_format
    from edgenn.converter.shrink.transforms import PruneSpec
    from edgenn.emulation import backends as be
    from edgenn.runtime_py import dataio
    from edgenn.validate import cosine, reference_outputs, top1

    if detect_format(source) != "onnx":
        raise DataError("--sensitivity prunes the float model: give the source .onnx (with --calib and --data)")
    for r in ratios:
        if not 0.0 < r < 1.0:
            raise DataError(f"--ratios: every ratio must be in (0, 1), got {r}")
    layers = candidate_layers(source, kind)
    if not layers:
        raise DataError(f"no layer of this model can be pruned ({kind})")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
    runs = [(None, 0.0)] + [(layer, r) for layer in layers for r in ratios] + [("*", r) for r in ratios]
    ref = None
    results: dict[tuple[str | None, float], dict[str, Any]] = {}
    for layer, r in (track(runs, "sensitivity: converting", unit="models") if progress else runs):
        opts = ConvertOptions(progress=False, prune_saliency=saliency)
        if layer is not None:
            opts.prune = (PruneSpec(kind, r),)
            opts.only_layers = None if layer == "*" else frozenset({layer})
        m = convert(source, calib, opts)
        x = dataio.to_internal(m, data)
        if ref is None:
            if labels is not None and labels.shape[0] != x[0].shape[0]:
                raise DataError(f"labels have {labels.shape[0]} entries for {x[0].shape[0]} samples")
            _, ref, _ = reference_outputs(source, m, data, x, progress=False)
        deq = dataio.from_internal(m, be.run(m, x, "python"), as_float=True)
        entry = {"top1_agreement": float(np.mean(top1(deq[0]) == top1(ref[0]))),
                 "cosine": cosine(np.concatenate([d.ravel() for d in deq]), np.concatenate([q.ravel() for q in ref])),
                 "macs": int(sum(op.macs for op in m.ops)),
                 "weights_bytes": int(sum(t.stored_nbytes for t in m.tensors if t.is_const))}
        if labels is not None:
            entry["accuracy"] = float(np.mean(top1(deq[0]) == labels))
        results[(layer, r)] = entry
    metric = "accuracy" if labels is not None else "top1_agreement"
    base = results[(None, 0.0)]
    out: dict[str, Any] = {"kind": kind, "saliency": saliency, "metric": metric, "ratios": list(ratios),
                           "samples": int(data[0].shape[0]), "baseline": base, "layers": []}
    if labels is not None:
        out["float_accuracy"] = float(np.mean(top1(ref[0]) == labels))
    for layer in layers + ["*"]:
        out["layers"].append({"layer": "all layers" if layer == "*" else layer,
                              "points": [{"ratio": r, **results[(layer, r)]} for r in ratios]})
    return out


def render(rep: dict[str, Any]) -> Any:
    """A rich table: one row per layer, one column per ratio (metric, and MACs saved for all layers)."""
    from rich.table import Table

    metric = rep["metric"].replace("_", " ")
    t = Table(title=f"{rep['kind']} pruning sensitivity: int8 {metric} on {rep['samples']} samples "
                    f"(unpruned int8 {rep['baseline'][rep['metric']]:.4f})", title_justify="left")
    t.add_column("layer")
    for r in rep["ratios"]:
        t.add_column(f"{r:.0%}", justify="right")
    base_macs, base_w = rep["baseline"]["macs"], rep["baseline"]["weights_bytes"]
    for row in rep["layers"]:
        cells = []
        for p in row["points"]:
            cell = f"{p[rep['metric']]:.4f}"
            if row["layer"] == "all layers":
                cell += f" (MACs {p['macs'] / base_macs - 1:+.0%}, weights {p['weights_bytes'] / base_w - 1:+.0%})"
            cells.append(cell)
        t.add_row(row["layer"][-40:], *cells)
    return t
