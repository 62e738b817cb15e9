"""Static memory planning: every activation and scratch buffer gets an offset in one arena.

A buffer is live from the operator that writes it to the last operator that reads it (graph
inputs from before the first operator, graph outputs until after the last). Two buffers whose
lifetimes intersect must not overlap in memory. Placement tries several orderings (greedy by
size, by lifetime, by area) and keeps the smallest arena. ``check_plan`` re-verifies any plan
and is run on every conversion.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ALIGN = 4


@dataclass
class Buffer:
    name: str
    size: int
    first: int  # first step it is live (op index; -1 = before the first op)
    last: int  # last step it is live (len(ops) = after the last op)
    offset: int = -1
    kind: str = "tensor"  # "tensor" or "scratch"

    def lives_with(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last

    def overlaps(self, other: "Buffer") -> bool:
        return self.offset < other.offset + other.size and other.offset < self.offset + self.size


@dataclass
class Plan:
    buffers: list[Buffer]
    arena_bytes: int
    planner: str
    lower_bound: int
    allowed_overlaps: set[frozenset[str]] = field(default_factory=set)

    def offset(self, name: str) -> int:
        for b in self.buffers:
            if b.name == name:
                return b.offset
        raise KeyError(name)


class PlanError(Exception):
    """A memory plan that would let two live buffers share bytes."""


def _align(x: int, a: int = ALIGN) -> int:
    return (x + a - 1) // a * a


def lower_bound(buffers: list[Buffer], steps: int) -> int:
    """Largest total size of buffers simultaneously live at any step (no in-place tricks)."""
    best = 0
    for s in range(-1, steps + 1):
        best = max(best, sum(b.size for b in buffers if b.first <= s <= b.last))
    return best


def _place(buffers: list[Buffer], order: list[Buffer]) -> int:
    placed: list[Buffer] = []
    for b in order:
        conflicts = sorted((p for p in placed if p.lives_with(b)), key=lambda p: p.offset)
        offset = 0
        for p in conflicts:
            if offset + b.size <= p.offset:
                break
            offset = max(offset, _align(p.offset + p.size))
        b.offset = offset
        placed.append(b)
    return max((b.offset + b.size for b in buffers), default=0)


STRATEGIES = {
    "greedy_by_size": lambda b: (-b.size, b.first, b.name),
    "greedy_by_lifetime": lambda b: (-(b.last - b.first), -b.size, b.name),
    "greedy_by_area": lambda b: (-(b.last - b.first + 1) * b.size, b.name),
    "greedy_by_start": lambda b: (b.first, -b.size, b.name),
}


def plan(buffers: list[Buffer], steps: int) -> Plan:
    """Place buffers with each strategy and keep the smallest arena."""
    best: tuple[int, str, dict[str, int]] | None = None
    for name, key in STRATEGIES.items():
        work = [Buffer(b.name, b.size, b.first, b.last, -1, b.kind) for b in buffers]
        size = _place(work, sorted(work, key=key))
        if best is None or size < best[0]:
            best = (size, name, {b.name: b.offset for b in work})
    assert best is not None
    size, name, offsets = best
    for b in buffers:
        b.offset = offsets[b.name]
    result = Plan(buffers, _align(size, 16) if size else 0, name, lower_bound(buffers, steps))
    check_plan(result)
    return result


def check_plan(p: Plan) -> None:
    """Prove that no two live buffers share a byte; raise PlanError otherwise."""
    bs = sorted(p.buffers, key=lambda b: b.offset)
    for b in bs:
        if b.offset < 0 or b.offset % ALIGN or b.offset + b.size > p.arena_bytes:
            raise PlanError(f"buffer {b.name!r} at {b.offset}+{b.size} is unaligned or outside the "
                            f"{p.arena_bytes}-byte arena")
    for i, a in enumerate(bs):
        for b in bs[i + 1:]:
            if b.offset >= a.offset + a.size:
                break
            if a.lives_with(b) and frozenset((a.name, b.name)) not in p.allowed_overlaps:
                raise PlanError(f"buffers {a.name!r} [{a.offset}, {a.offset + a.size}) and {b.name!r} "
                                f"[{b.offset}, {b.offset + b.size}) are live together at steps "
                                f"{max(a.first, b.first)}..{min(a.last, b.last)} but overlap")
