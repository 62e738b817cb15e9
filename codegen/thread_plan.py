"""The memory plan of a threaded build (`edgenn generate --threads N`).

The converter's plan lets a convolution's output overlap its own input where writing the pixels in
order never overwrites an input byte still to be read (runtime_py/memory.py, "windowed"). Split by
rows over several threads, that order no longer holds, so the kernels run such a layer on one
thread (templates/kernels/edgenn_threads.h). On the MLPerf Tiny models 61-88 % of the convolution
MACs are in such layers; a Pi has RAM to spare, so a threaded build re-plans the arena without the
convolutions' in-place overlaps (aliases, element-wise and other overlaps kept) and proves the new
plan with the same checker as every .enn. The .enn file is not changed: only the generated C's
arena offsets (and size) differ, and every output byte is the same.
"""
from __future__ import annotations

import copy

from edgenn.converter import planner
from edgenn.format.enn import EnnModel
from edgenn.runtime_py.memory import check_plan, model_regions

#: Operators whose kernels split rows over threads.
THREADED_OPS = ("conv2d", "depthwise_conv2d")


def plan_for_threads(model: EnnModel) -> EnnModel:
    """A copy of ``model`` whose arena keeps every threaded operator's output apart from its input."""
    regions, rules = model_regions(model)
    keep = [r for r in rules if r.alias or model.ops[r.step].type not in THREADED_OPS]
    if len(keep) == len(rules):
        return model
    for r in regions:
        r.offset = -1
    plan = planner.plan(regions, len(model.ops), keep)
    check_plan(plan.buffers, keep, plan.arena_bytes)
    out = copy.deepcopy(model)
    for b in plan.buffers:
        kind, _, _ = b.name.partition(":")
        if kind.startswith("scratch"):
            out.ops[int(kind[len("scratch"):])].scratch_offset = b.offset
        else:
            out.tensors[int(kind[1:])].arena_offset = b.offset
    out.arena_bytes = plan.arena_bytes
    return out
