"""Draw a memory plan: operators along x, arena bytes along y, each buffer a rectangle."""
from __future__ import annotations

import math
from pathlib import Path

from edgenn.errors import EdgennError
from edgenn.runtime_py import memory
from edgenn.format.enn import EnnModel


# Text of 6 pt: rotated layer labels need about this pitch, and a character about this width.
LABEL_PITCH_PT = 8.0
CHAR_PT = 3.7
FONT_PT = 6


def plot_plan(model: EnnModel, path: str | Path) -> Path:
    """Write the plan of ``model`` as PNG, SVG or PDF (chosen by the file extension)."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise EdgennError(f"--plot {path}: use a .png, .svg or .pdf file name")
    fig = draw_plan(model)
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def draw_plan(model: EnnModel):
    """The plan as a matplotlib figure: operators along x, arena bytes along y, one rectangle per
    buffer. Layer labels go on every k-th operator and buffer names only into rectangles wide
    enough for them, so that no text overlaps however many layers the model has."""
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
    top = max(model.arena_bytes, int(model.plan.get("lower_bound_bytes", 0))) * 1.08 or 1
    ax.set_xlim(-1.6, steps + 0.6)
    ax.set_ylim(0, top)
    ax.set_ylabel("arena offset (bytes)")
    ax.set_title(f"memory plan of '{model.name}' ({model.plan.get('planner', '')})")
    ax.set_xticks([0])
    ax.set_xticklabels([f"0:{model.ops[0].type}" if steps else ""], rotation=90, fontsize=FONT_PT)
    fig.tight_layout()
    box = ax.get_window_extent()
    pt_per_step = box.width * 72.0 / fig.dpi / (steps + 2.2)
    pt_per_byte = box.height * 72.0 / fig.dpi / top
    labelled: list[tuple[float, float, float, float]] = []  # text boxes in data units, to keep them apart
    for k, r in enumerate(sorted(regions, key=lambda r: (r.first, r.offset))):
        scratch = r.name.startswith("scratch")
        width = r.last - r.first + 0.9
        ax.add_patch(Rectangle((r.first - 0.45, r.offset), width, r.size,
                               facecolor="none" if scratch else cmap(k % 20), edgecolor="black", linewidth=0.5,
                               hatch="//" if scratch else None, alpha=0.85))
        label = r.name.split(":", 1)[-1].split(";")[0]
        chars = min(24, int(width * pt_per_step / CHAR_PT) - 1)
        if chars >= 6 and r.size * pt_per_byte >= FONT_PT + 2:
            text = label[-chars:]
            cx, cy = (r.first + r.last) / 2, r.offset + r.size / 2
            half_w, half_h = len(text) * CHAR_PT / 2 / pt_per_step, (FONT_PT + 1) / 2 / pt_per_byte
            if not any(abs(cx - x) < half_w + w and abs(cy - y) < half_h + h for x, y, w, h in labelled):
                ax.text(cx, cy, text, ha="center", va="center", fontsize=FONT_PT)
                labelled.append((cx, cy, half_w, half_h))
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
    every = max(1, math.ceil(LABEL_PITCH_PT / pt_per_step))
    ticks = list(range(0, steps, every))
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{i}:{model.ops[i].type}" for i in ticks], rotation=90, fontsize=FONT_PT)
    if every > 1:
        ax.set_xlabel(f"operator (one label every {every})", fontsize=7)
    fig.tight_layout()
    return fig
