"""Static memory planning: every activation and scratch buffer gets an offset in one arena.

A buffer is live from the operator that writes it to the last operator that reads it (graph
inputs from before the first operator, graph outputs until after the last). Live buffers may
not share bytes, except along overlap links the kernels make safe (runtime_py/memory.py):
reshape aliases and outputs written over a dying input at a proven distance. Linked buffers
form rigid groups placed together. Several variants (no links, aliases only, all links) and
placement orders (greedy by size, lifetime, area, start) are tried and the smallest arena is
kept. Every plan is verified by runtime_py.memory.check_plan.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from edgenn.runtime_py.memory import OverlapRule, PlanError, Region, align_up, check_plan

Buffer = Region  # the planner's buffers are the checker's regions

__all__ = ["Buffer", "Plan", "PlanError", "plan", "lower_bound", "check"]


@dataclass
class Plan:
    buffers: list[Buffer]
    arena_bytes: int
    planner: str
    lower_bound: int
    links: list[OverlapRule] = field(default_factory=list)

    def offset(self, name: str) -> int:
        for b in self.buffers:
            if b.name == name:
                return b.offset
        raise KeyError(name)


def lower_bound(buffers: list[Buffer], steps: int) -> int:
    """Largest total size of buffers simultaneously live at any step (no in-place tricks)."""
    best = 0
    for s in range(-1, steps + 1):
        best = max(best, sum(b.size for b in buffers if b.first <= s <= b.last))
    return best


class _Group:
    def __init__(self, b: Buffer):
        self.members: dict[str, int] = {b.name: 0}  # name -> offset relative to the group base

    def span(self, by_name: dict[str, Buffer]) -> int:
        return max(rel + by_name[m].size for m, rel in self.members.items())


def _groups(buffers: list[Buffer], links: list[OverlapRule]) -> tuple[list[_Group], list[OverlapRule]]:
    """Merge linked buffers into rigid groups; a link that would make two other members collide is skipped."""
    by_name = {b.name: b for b in buffers}
    group_of: dict[str, _Group] = {b.name: _Group(b) for b in buffers}
    used: list[OverlapRule] = []
    for link in links:
        ga, gb = group_of[link.inp], group_of[link.out]
        if ga is gb:
            continue
        # place gb relative to ga: out = inp - delta
        shift = ga.members[link.inp] - link.delta - gb.members[link.out]
        merged = dict(ga.members)
        merged.update({m: rel + shift for m, rel in gb.members.items()})
        trial = [Region(m, by_name[m].size, by_name[m].first, by_name[m].last, rel) for m, rel in merged.items()]
        low = min(r.offset for r in trial)
        for r in trial:
            r.offset -= low
        try:
            check_plan(trial, used + [link], arena_bytes=1 << 62)
        except PlanError:
            continue
        g = _Group(by_name[link.inp])
        g.members = {m: rel - low for m, rel in merged.items()}
        for m in g.members:
            group_of[m] = g
        used.append(link)
    unique = list({id(g): g for g in group_of.values()}.values())
    return unique, used


def _place(groups: list[_Group], by_name: dict[str, Buffer], order_key) -> int:
    placed: list[Buffer] = []
    for g in sorted(groups, key=order_key):
        members = [(by_name[m], rel) for m, rel in g.members.items()]
        cands = {0}
        for p in placed:
            for b, rel in members:
                if p.lives_with(b):
                    cands.add(align_up(max(0, p.offset + p.size - rel)))
        for base in sorted(cands):
            ok = True
            for b, rel in members:
                lo, hi = base + rel, base + rel + b.size
                for p in placed:
                    if p.lives_with(b) and lo < p.offset + p.size and p.offset < hi:
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                for b, rel in members:
                    b.offset = base + rel
                    placed.append(b)
                break
    return max((b.offset + b.size for b in by_name.values()), default=0)


def _strategies(by_name: dict[str, Buffer]):
    def members(g):
        return [by_name[m] for m in g.members]

    def life(g):
        ms = members(g)
        return max(b.last for b in ms) - min(b.first for b in ms)

    return {
        "greedy_by_size": lambda g: (-max(b.size for b in members(g)), -g.span(by_name), min(g.members)),
        "greedy_by_span": lambda g: (-g.span(by_name), min(g.members)),
        "greedy_by_lifetime": lambda g: (-life(g), -g.span(by_name), min(g.members)),
        "greedy_by_area": lambda g: (-sum(b.size * (b.last - b.first + 1) for b in members(g)), min(g.members)),
        "greedy_by_start": lambda g: (min(b.first for b in members(g)), -g.span(by_name), min(g.members)),
    }


def _best_placement(buffers: list[Buffer], links: list[OverlapRule]) -> tuple[int, str, dict[str, int], list[OverlapRule]]:
    work = [Region(b.name, b.size, b.first, b.last) for b in buffers]
    by_name = {b.name: b for b in work}
    groups, used = _groups(work, links)
    best = None
    for sname, key in _strategies(by_name).items():
        for b in work:
            b.offset = -1
        # Aliases save a copy at run time: among equal arenas, prefer more of them.
        size = (_place(groups, by_name, key), -sum(1 for lk in used if lk.alias), _highwater(work))
        if best is None or size < best[0]:
            best = (size, sname, {b.name: b.offset for b in work}, used)
    assert best is not None
    return best


def _highwater(bufs: list[Buffer]) -> int:
    """Sum over steps of the highest byte in use: a tie-breaker that rewards local savings."""
    steps: dict[int, int] = {}
    for b in bufs:
        top = b.offset + b.size
        for s in range(b.first, b.last + 1):
            if steps.get(s, 0) < top:
                steps[s] = top
    return sum(steps.values())


def plan(buffers: list[Buffer], steps: int, links: list[OverlapRule] | None = None, passes: int = 4,
         budget_s: float = 10.0, deadline: float | None = None) -> Plan:
    """Place buffers, choosing which overlap links to use by local search; keep the smallest arena.

    In-place links are toggled one at a time (largest possible saving first) and every
    improvement of (arena, summed per-step high-water) is kept; then reshape aliases are
    added wherever they do not grow the arena (an alias also saves the copy at run time).
    The search is bounded in passes and time: ``budget_s`` seconds from now, or until the
    ``time.monotonic()`` value ``deadline`` when one is given (a caller planning several
    candidate orders shares one budget among them).
    """
    links = list(links or [])
    sizes = {b.name: b.size for b in buffers}
    inplace = sorted((lk for lk in links if not lk.alias),
                     key=lambda lk: -min(sizes[lk.inp], sizes[lk.out] + max(lk.delta, 0)))
    aliases = [lk for lk in links if lk.alias]
    if deadline is None:
        deadline = time.monotonic() + budget_s

    def arena_key(r):  # ((arena, -aliases, high-water), ...) -> (arena, high-water)
        return (r[0][0], r[0][2])

    best = _best_placement(buffers, [])
    chosen: list[OverlapRule] = []
    for _ in range(passes):
        improved = False
        for lk in inplace:
            if time.monotonic() > deadline:
                break
            trial = [x for x in chosen if x is not lk] if lk in chosen else chosen + [lk]
            cand = _best_placement(buffers, trial)
            if arena_key(cand) < arena_key(best):
                best, chosen, improved = cand, list(cand[3]), True
        if not improved:
            break
    for lk in aliases:
        if time.monotonic() > deadline:
            break
        cand = _best_placement(buffers, chosen + [lk])
        if cand[0][0] <= best[0][0] and lk in cand[3]:
            best, chosen = cand, list(cand[3])
    (size, _, _), name, offsets, used = best
    for b in buffers:
        b.offset = offsets[b.name]
    kinds = ("+alias" if any(lk.alias for lk in used) else "") + ("+inplace" if any(not lk.alias for lk in used) else "")
    result = Plan(buffers, align_up(size, 16) if size else 0, name + kinds, lower_bound(buffers, steps), used)
    check(result)
    return result


def check(p: Plan) -> None:
    check_plan(p.buffers, p.links, p.arena_bytes)

