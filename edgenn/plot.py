"""Draw a memory plan: operators along x, arena bytes along y, each buffer a rectangle."""
from __future__ import annotations

from pathlib import Path

from edgenn.errors import EdgennError
from edgenn.runtime_py import memory
from edgenn.format.enn import EnnModel


def plot_plan(model: EnnModel, path: str | Path) -> Path:
    """Write the plan of ``model`` as PNG or SVG (chosen by the file extension)."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise EdgennError(f"--plot {path}: use a .png, .svg or .pdf file name")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle
    except ImportError:
        raise EdgennError("plotting needs matplotlib: pip install matplotlib") from None

    regions, _ = memory.model_regions(model)
    steps = len(model.ops)
    fig, ax = plt.subplots(figsize=(max(8, min(24, steps * 0.35)), 6))
    cmap = plt.get_cmap("tab20")
    high = {s: 0 for s in range(-1, steps + 1)}
    for k, r in enumerate(sorted(regions, key=lambda r: (r.first, r.offset))):
        scratch = r.name.startswith("scratch")
        ax.add_patch(Rectangle((r.first - 0.45, r.offset), r.last - r.first + 0.9, r.size,
                               facecolor="none" if scratch else cmap(k % 20), edgecolor="black", linewidth=0.5,
                               hatch="//" if scratch else None, alpha=0.85))
        label = r.name.split(":", 1)[-1].split(";")[0]
        if r.size > model.arena_bytes * 0.06 and (r.last - r.first) >= 1:
            ax.text((r.first + r.last) / 2, r.offset + r.size / 2, label[-24:], ha="center", va="center", fontsize=6)
        for s in range(r.first, r.last + 1):
            high[s] = max(high[s], r.offset + r.size)
    peak_step = max(high, key=lambda s: high[s])
    ax.axhline(model.arena_bytes, color="red", linestyle="--", linewidth=1)
    ax.annotate(f"arena {model.arena_bytes:,} B (peak at step {peak_step})", (peak_step, high[peak_step]),
                xytext=(0.02, 0.97), textcoords="axes fraction", va="top", color="red",
                arrowprops={"arrowstyle": "->", "color": "red"})
    lb = model.plan.get("lower_bound_bytes", 0)
    if lb:
        ax.axhline(lb, color="gray", linestyle=":", linewidth=1)
        ax.text(steps + 0.4, lb, f"layer-wise bound {lb:,} B", va="bottom", ha="right", fontsize=7, color="gray")
    ax.set_xlim(-1.6, steps + 0.6)
    ax.set_ylim(0, max(model.arena_bytes, lb) * 1.08 or 1)
    ax.set_xticks(range(steps))
    ax.set_xticklabels([f"{i}:{op.type}" for i, op in enumerate(model.ops)], rotation=90, fontsize=6)
    ax.set_ylabel("arena offset (bytes)")
    ax.set_title(f"memory plan of '{model.name}' ({model.plan.get('planner', '')})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
