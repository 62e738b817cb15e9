"""Before/after report of pruning, clustering and compression: per layer and in total, MACs,
flash (weights as stored + per-layer parameters) and RAM (arena), and what it cost in accuracy
or agreement with the float model on the user's data."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgenn.analysis import analyze
from edgenn.format.enn import EnnModel


def _change(before: float, after: float) -> float:
    return (after - before) / before if before else 0.0


def compare(base: EnnModel, new: EnnModel) -> dict[str, Any]:
    """Per-layer and total MACs / flash / arena of ``new`` against ``base`` (layers matched by name)."""
    a, b = analyze(base), analyze(new)
    after = {lay["name"]: lay for lay in b["layers"]}
    layers = []
    for lay in a["layers"]:
        if lay["macs"] == 0 and lay["weight_bytes"] == 0:
            continue
        n = after.get(lay["name"])
        layers.append({
            "name": lay["name"], "op": lay["op"],
            "output_shape_before": lay["output_shapes"][0], "output_shape_after": n["output_shapes"][0] if n else None,
            "macs_before": lay["macs"], "macs_after": n["macs"] if n else 0,
            "flash_before": lay["weight_bytes"] + lay["param_bytes"],
            "flash_after": (n["weight_bytes"] + n["param_bytes"]) if n else 0,
            "weights_encoding": n["weights_encoding"] if n else "removed",
        })
    tot: dict[str, Any] = {}
    for key, get in (("macs", lambda r: r["macs"]), ("weights_bytes", lambda r: r["weights_bytes"]),
                     ("flash_bytes", lambda r: r["weights_bytes"] + r["params_bytes"]),
                     ("arena_bytes", lambda r: r["arena_bytes"])):
        tot[key] = {"before": get(a), "after": get(b), "change": _change(get(a), get(b))}
    return {"layers": layers, "total": tot}


def quality(source: str | Path, models: dict[str, EnnModel], data: list[np.ndarray],
            labels: np.ndarray | None) -> dict[str, Any]:
    """Accuracy (with labels), top-1 agreement and cosine with the float source model, per int8 model
    (runtime_py, the bit-exact reference of every backend)."""
    from edgenn.emulation import backends as be
    from edgenn.runtime_py import dataio
    from edgenn.validate import cosine, reference_outputs, top1

    first = next(iter(models.values()))
    x = dataio.to_internal(first, data)
    kind, ref_float, _ = reference_outputs(source, first, data, x, progress=False)
    res: dict[str, Any] = {"samples": int(x[0].shape[0]), "reference": kind}
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        res["float_accuracy"] = float(np.mean(top1(ref_float[0]) == labels))
    outs_by = {}
    for key, m in models.items():
        outs = be.run(m, dataio.to_internal(m, data), "python")
        outs_by[key] = outs
        deq = dataio.from_internal(m, outs, as_float=True)
        entry = {"top1_agreement": float(np.mean(top1(deq[0]) == top1(ref_float[0]))),
                 "cosine": cosine(np.concatenate([d.ravel() for d in deq]),
                                  np.concatenate([r.ravel() for r in ref_float]))}
        if labels is not None:
            entry["accuracy"] = float(np.mean(top1(deq[0]) == labels))
        res[key] = entry
    keys = list(models)
    if len(keys) == 2:
        res["mismatched_bytes"] = int(sum(np.count_nonzero(p != q) for p, q in zip(outs_by[keys[0]], outs_by[keys[1]])))
    return res


def render(report: dict[str, Any]) -> "Any":
    """A rich renderable of a savings report (compare() + optional quality)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    t = Table(title="before -> after", title_justify="left")
    for col in ("layer", "op", "output", "MACs", "flash B", "weights"):
        t.add_column(col, justify="right" if col in ("MACs", "flash B") else "left")
    for lay in report["layers"]:
        shape = "x".join(map(str, lay["output_shape_before"][1:]))
        if lay["output_shape_after"] and lay["output_shape_after"] != lay["output_shape_before"]:
            shape += " -> " + "x".join(map(str, lay["output_shape_after"][1:]))
        t.add_row(lay["name"], lay["op"], shape, f"{lay['macs_before']:,} -> {lay['macs_after']:,}",
                  f"{lay['flash_before']:,} -> {lay['flash_after']:,}", lay["weights_encoding"])
    lines = []
    for key, label in (("macs", "MACs"), ("flash_bytes", "flash (weights + parameters) B"),
                       ("weights_bytes", "weights B"), ("arena_bytes", "arena B")):
        v = report["total"][key]
        lines.append(f"{label}: {v['before']:,} -> {v['after']:,} ({v['change']:+.1%})")
    q = report.get("quality")
    if q:
        head = f"on {q['samples']} samples vs the float model ({q['reference']})"
        if q.get("data"):
            head = f"on {q['data']}, vs the float model ({q['reference']})"
        if "float_accuracy" in q:
            head += f", float accuracy {q['float_accuracy']:.4f}"
        lines.append(head + ":")
        for key in ("before", "after"):
            e = q.get(key)
            if e:
                acc = f"accuracy {e['accuracy']:.4f}, " if "accuracy" in e else ""
                lines.append(f"  int8 {key}: {acc}top-1 agreement {e['top1_agreement']:.4f}, cosine {e['cosine']:.5f}")
        if "mismatched_bytes" in q and q.get("lossless"):
            lines.append(f"  outputs differing from the uncompressed model: {q['mismatched_bytes']} bytes")
    return Group(t, Text("\n".join(lines)))
