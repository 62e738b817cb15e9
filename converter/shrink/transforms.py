"""The float-graph transforms a user asks `convert` for: structured and unstructured pruning and
weight clustering, applied in that order to the folded float graph, before calibration.

Calibration then runs on the transformed graph itself (converter/float_exec.py), because its
activations no longer equal the source model's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgenn.converter.graph import Graph
from edgenn.errors import DataError
from edgenn.progress import step

PRUNE_KINDS = ("structured", "unstructured")
SALIENCIES = ("l1", "l2", "activation")


@dataclass(frozen=True)
class PruneSpec:
    kind: str
    ratio: float

    def __str__(self) -> str:
        return f"{self.kind}:{self.ratio:g}"


def parse_prune(spec: str) -> PruneSpec:
    """``structured:0.3`` / ``unstructured:0.5`` -> PruneSpec (DataError on anything else)."""
    kind, sep, value = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in PRUNE_KINDS or not sep:
        raise DataError(f"--prune takes structured:RATIO or unstructured:RATIO (e.g. structured:0.3), got {spec!r}")
    try:
        ratio = float(value)
    except ValueError:
        raise DataError(f"--prune {spec!r}: the ratio must be a number in [0, 1)") from None
    if not 0.0 <= ratio < 1.0:
        raise DataError(f"--prune {spec!r}: the ratio must be in [0, 1)")
    return PruneSpec(kind, ratio)


def wants_transforms(prune: tuple[PruneSpec, ...], cluster: int | None) -> bool:
    return bool(prune) or cluster is not None


def transform(g: Graph, calib: list[np.ndarray] | None, prune: tuple[PruneSpec, ...] = (), cluster: int | None = None,
              saliency: str = "l1", only: set[str] | None = None) -> dict[str, Any]:
    """Apply the requested transforms to the float graph ``g`` in place; returns their reports as JSON-able dicts."""
    from edgenn.converter.float_exec import graph_feeds

    if saliency not in SALIENCIES:
        raise DataError(f"unknown pruning saliency {saliency!r}; choose from {', '.join(SALIENCIES)}")
    kinds = [p.kind for p in prune]
    if len(set(kinds)) != len(kinds):
        raise DataError("--prune: give each kind (structured, unstructured) at most once")
    feeds = graph_feeds(g, calib, "calibration data") if calib is not None else None
    report: dict[str, Any] = {}
    for p in sorted(prune, key=lambda p: PRUNE_KINDS.index(p.kind)):
        if p.kind == "structured":
            from edgenn.converter.shrink.structured import prune_structured

            with step(f"pruning ({p}) and refitting"):
                report["structured"] = prune_structured(g, p.ratio, feeds, saliency=saliency, only=only).to_dict()
        else:
            from edgenn.converter.shrink.unstructured import prune_unstructured

            with step(f"pruning ({p}) and refitting"):
                report["unstructured"] = prune_unstructured(g, p.ratio, feeds, only=only).to_dict()
    if cluster is not None:
        from edgenn.converter.shrink.cluster import cluster_weights

        with step(f"clustering weights ({cluster} values per layer)"):
            report["cluster"] = cluster_weights(g, cluster, feeds, only=only).to_dict()
    return report
