"""Static memory planning: every activation and scratch buffer gets an offset in one arena.

A buffer is live from the operator that writes it to the last operator that reads it (graph
inputs from before the first operator, graph outputs until after the last). Live buffers may
not share bytes, except along overlap links the kernels make safe (runtime_py/memory.py):
reshape aliases and outputs written over a dying input at a proven distance. Linked buffers
form rigid groups placed together. A local search chooses the links; each choice is placed with
several greedy orders (by size, span, lifetime, area, start) and the smallest arena is kept.
Every plan is verified by runtime_py.memory.check_plan.

Cost: the pairs of buffers that live together are found once per problem (a sweep over time);
one placement then takes time proportional to those pairs, i.e. to the number of buffers times
how many live at once. The search over links is bounded by a deterministic amount of work
(``EFFORT``), never by the clock, so the same input always gives the same plan: small graphs get
the exhaustive local search, large ones a search focused on the steps at the peak.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from edgenn.runtime_py.memory import ALIGN, OverlapRule, PlanError, Region, align_up, check_plan

Buffer = Region  # the planner's buffers are the checker's regions

__all__ = ["Buffer", "Case", "Plan", "PlanError", "Problem", "plan", "plan_orders", "lower_bound", "check", "EFFORT"]

# Work units (buffers + pairs of buffers living together, per placement of all strategies) up to
# which every candidate order gets the exhaustive search: about 1 s on the 2-core CI machine.
EFFORT = 300_000


@dataclass
class Plan:
    buffers: list[Buffer]
    arena_bytes: int
    planner: str
    lower_bound: int
    links: list[OverlapRule] = field(default_factory=list)
    work: int = 0  # work units spent (placements x their problem's cost): grows with the graph, not its square

    def offset(self, name: str) -> int:
        for b in self.buffers:
            if b.name == name:
                return b.offset
        raise KeyError(name)


def lower_bound(buffers: list[Buffer], steps: int) -> int:
    """Largest total size of buffers simultaneously live at any step (no in-place tricks)."""
    delta = [0] * (steps + 4)  # steps -1 .. steps + 1, shifted by one
    for b in buffers:
        lo, hi = max(b.first, -1), min(b.last, steps + 1)
        if lo <= hi:
            delta[lo + 1] += b.size
            delta[hi + 2] -= b.size
    best = run = 0
    for d in delta:
        run += d
        best = max(best, run)
    return best


class Problem:
    """The buffers to place, indexed, with the pairs that live together (found once, by a sweep
    over time: work proportional to buffers x buffers live at once)."""

    def __init__(self, buffers: list[Buffer]):
        self.buffers = buffers
        self.names = [b.name for b in buffers]
        self.index = {b.name: i for i, b in enumerate(buffers)}
        self.size = [b.size for b in buffers]
        self.first = [b.first for b in buffers]
        self.last = [b.last for b in buffers]
        self.conflicts: list[list[int]] = [[] for _ in buffers]
        active: list[int] = []
        for i in sorted(range(len(buffers)), key=lambda k: (self.first[k], k)):
            f = self.first[i]
            active = [a for a in active if self.last[a] >= f]
            for a in active:
                if self.first[a] <= self.last[i]:  # a degenerate lifetime may end before it starts
                    self.conflicts[i].append(a)
                    self.conflicts[a].append(i)
            active.append(i)
        self.pairs = sum(len(c) for c in self.conflicts) // 2
        self.single = [_Group([(i, 0)], self) for i in range(len(buffers))]  # unlinked buffers' groups
        self.placements = 0  # evaluations (of all strategies) so far

    @property
    def cost(self) -> int:
        """Work units of one placement (all strategies)."""
        return len(self.buffers) + self.pairs


class _Group:
    """Buffers held at fixed distances by overlap links, placed as one block: (index, offset
    relative to the group's base), the lowest at 0; with its sort key for each strategy."""

    def __init__(self, members: list[tuple[int, int]], p: Problem):
        self.members = members
        size, first, last = p.size, p.first, p.last
        self.span = max(rel + size[i] for i, rel in members)
        low_name = min(p.names[i] for i, _ in members)
        start = min(first[i] for i, _ in members)
        life = max(last[i] for i, _ in members) - start
        area = sum(size[i] * (last[i] - first[i] + 1) for i, _ in members)
        biggest = max(size[i] for i, _ in members)
        # greedy_by_size, _by_span, _by_lifetime, _by_area, _by_start (see STRATEGIES)
        self.keys = ((-biggest, -self.span, low_name), (-self.span, low_name), (-life, -self.span, low_name),
                     (-area, low_name), (start, -self.span, low_name))


# Placement orders, tried in this order (the first wins ties): largest buffer, widest group,
# longest life, largest size x lifetime, earliest start first.
STRATEGIES = ("greedy_by_size", "greedy_by_span", "greedy_by_lifetime", "greedy_by_area", "greedy_by_start")


class _Merging:
    """A group while links are merged in: offsets in a frame of its own."""

    def __init__(self, i: int):
        self.pos: dict[int, int] = {i: 0}
        self.low = 0


def _groups(p: Problem, links: list[OverlapRule]) -> tuple[list[_Group], list[OverlapRule]]:
    """Merge linked buffers into rigid groups; a link that would make two other members collide (or
    leave a member unaligned) is skipped. Each merge checks the smaller group against the larger.

    Aliases compose (as in ``check_plan``): members joined by a chain of used alias links hold the
    same bytes where they overlap, so such a pair may overlap."""
    group_of = [_Merging(i) for i in range(len(p.buffers))]
    chain = list(range(len(p.buffers)))  # union-find of the used alias links

    def root(i: int) -> int:
        while chain[i] != i:
            chain[i] = chain[chain[i]]
            i = chain[i]
        return i

    used: list[OverlapRule] = []
    for link in links:
        a, b = p.index[link.inp], p.index[link.out]
        ga, gb = group_of[a], group_of[b]
        if ga is gb:
            continue
        # place gb relative to ga: out = inp - delta; all offsets stay aligned only if the shift is
        shift = ga.pos[a] - link.delta - gb.pos[b]
        if shift % ALIGN:
            continue
        small, large, move = (gb, ga, shift) if len(gb.pos) <= len(ga.pos) else (ga, gb, -shift)
        ends = (b, a) if small is gb else (a, b)  # the link's member in small, in large
        chained = (root(ends[0]), root(ends[1])) if link.alias else None
        if _collides(p, small, large, move, ends, chained, root):
            continue
        for m, q in small.pos.items():
            large.pos[m] = q + move
            group_of[m] = large
        large.low = min(large.low, small.low + move)
        if link.alias:
            chain[root(a)] = root(b)
        used.append(link)
    unique = list({id(g): g for g in group_of}.values())
    return [p.single[next(iter(g.pos))] if len(g.pos) == 1 else _Group([(m, q - g.low) for m, q in g.pos.items()], p)
            for g in unique], used


def _collides(p: Problem, small: _Merging, large: _Merging, move: int, ends: tuple[int, int],
              chained: tuple[int, int] | None, root) -> bool:
    """Whether a member of ``small`` (shifted by ``move`` into ``large``'s frame) shares bytes with
    a member of ``large`` while both live, other than the linked pair ``ends`` itself and, for an
    alias link, pairs that the link joins into one alias chain (``chained``: the roots of the
    chains of its ends)."""
    size, pos = p.size, large.pos
    for m, q in small.pos.items():
        if not size[m]:
            continue
        lo = q + move
        hi = lo + size[m]
        for j in p.conflicts[m]:
            r = pos.get(j)
            if r is None or not size[j] or not (lo < r + size[j] and r < hi) or (m, j) == ends:
                continue
            if chained is not None and root(m) == chained[0] and root(j) == chained[1]:
                continue
            return True
    return False


def _place(p: Problem, order: list[_Group], limit: int | None = None) -> list[int] | None:
    """First fit: each group (in ``order``) at the lowest aligned base where none of its members
    shares bytes with a placed buffer it lives with. Returns the offsets, or None as soon as a
    group would end above ``limit``."""
    size, conflicts = p.size, p.conflicts
    off = [-1] * len(size)
    mask = ALIGN - 1
    for g in order:
        forbidden = []  # base b is forbidden where lo < b < hi
        add = forbidden.append
        for i, rel in g.members:
            s = size[i]
            for j in conflicts[i]:
                o = off[j]
                if o >= 0:
                    add((o - rel - s, o + size[j] - rel))
        forbidden.sort()
        # Sweep by lo: every interval starting below the base pushes it up to its (aligned) end.
        base = 0
        for lo, hi in forbidden:
            if lo >= base:
                break
            if hi > base:
                base = (hi + mask) & ~mask
        if limit is not None and base + g.span > limit:
            return None
        for i, rel in g.members:
            off[i] = base + rel
    return off


@dataclass
class _Placement:
    key: tuple[int, int, int]  # (arena, -aliases, summed high-water)
    strategy: str
    offsets: list[int]
    used: list[OverlapRule]


def _best_placement(p: Problem, links: list[OverlapRule], limit: int | None = None) -> _Placement | None:
    """The best strategy's placement with these links; None if every strategy's arena exceeds
    ``limit`` (a search that only keeps improvements stops those placements early)."""
    p.placements += 1
    groups, used = _groups(p, links)
    aliases = -sum(1 for lk in used if lk.alias)
    tried = []
    for k, sname in enumerate(STRATEGIES):
        off = _place(p, sorted(groups, key=lambda g: g.keys[k]), limit)
        if off is not None:
            tried.append((max((o + s for o, s in zip(off, p.size)), default=0), sname, off))
    if not tried:
        return None
    low = min(t[0] for t in tried)
    best = None
    # Aliases save a copy at run time: among equal arenas, prefer more of them; then the lowest
    # summed high-water (computed only for the strategies that reach the smallest arena).
    for arena, sname, off in tried:
        if arena != low:
            continue
        k = (arena, aliases, _highwater(p, off))
        if best is None or k < best.key:
            best = _Placement(k, sname, off, used)
    assert best is not None
    return best


def _highwater(p: Problem, off: list[int]) -> int:
    """Sum over steps of the highest byte in use: a tie-breaker that rewards local savings."""
    return sum(_step_tops(p, off))


def _step_tops(p: Problem, off: list[int]) -> list[int]:
    """Highest byte in use at each step that some buffer lives at (from the earliest first step)."""
    lo = min(p.first, default=0)
    hw = [0] * (max(p.last, default=0) - lo + 1)
    for o, s, f, last in zip(off, p.size, p.first, p.last):
        top = o + s
        a, b = f - lo, last - lo + 1
        if a < b:
            hw[a:b] = [top if v < top else v for v in hw[a:b]]
    return hw


class Case:
    """One execution order's planning problem: its buffers, steps and overlap links."""

    def __init__(self, buffers: list[Buffer], steps: int, links: list[OverlapRule] | None = None):
        self.buffers = buffers
        self.steps = steps
        self.problem = Problem(buffers)
        p = self.problem
        links = list(links or [])
        # Largest possible saving first.
        self.inplace = sorted((lk for lk in links if not lk.alias),
                              key=lambda lk: -min(p.size[p.index[lk.inp]], p.size[p.index[lk.out]] + max(lk.delta, 0)))
        self.aliases = [lk for lk in links if lk.alias]

    def exhaustive_work(self, passes: int) -> int:
        """Work units of the exhaustive search at most."""
        return (1 + passes * len(self.inplace) + len(self.aliases)) * self.problem.cost


def plan(buffers: list[Buffer], steps: int, links: list[OverlapRule] | None = None, passes: int = 4,
         effort: int = EFFORT) -> Plan:
    """Place buffers, choosing which overlap links to use by local search (see ``plan_orders``)."""
    return plan_orders([Case(buffers, steps, links)], passes, effort)[1]


def plan_orders(cases: list[Case], passes: int = 4, effort: int = EFFORT) -> tuple[int, Plan]:
    """Plan the same graph under several execution orders; the index of the order with the
    smallest arena (the first on ties) and its plan (offsets written into its buffers).

    In-place links are toggled one at a time and every improvement of (arena, summed per-step
    high-water) is kept; then reshape aliases are added wherever they do not grow the arena (an
    alias also saves the copy at run time). When the exhaustive search of every order fits in
    ``effort`` work units, every order gets it: every link tried, largest possible saving first,
    for up to ``passes`` passes. Otherwise each order is screened by one placement with all its
    links, and the best ``FOCUSED_ORDERS`` get a search from the best of no links / all in-place
    links / all links, of at most ``FOCUSED_EVALS`` placements that try the links nearest the steps
    where the arena peaks: the work then grows with the graph's size, not with its square.
    """
    from edgenn.progress import step

    with step("planning memory", total=len(cases), unit="orders") as st:
        if sum(c.exhaustive_work(passes) for c in cases) <= effort:
            results = []
            for c in cases:
                results.append(_exhaustive(c.problem, c.inplace, c.aliases, passes))
                st.advance()
        else:
            results = _screened(cases, passes, st)
    best_i = None
    for i, r in enumerate(results):
        if r is not None and (best_i is None or _arena(r) < _arena(results[best_i])):
            best_i = i
    assert best_i is not None
    c, best = cases[best_i], results[best_i]
    for b, o in zip(c.buffers, best.offsets):
        b.offset = o
    used = best.used
    kinds = ("+alias" if any(lk.alias for lk in used) else "") + ("+inplace" if any(not lk.alias for lk in used) else "")
    result = Plan(c.buffers, _arena(best), best.strategy + kinds, lower_bound(c.buffers, c.steps), used,
                  work=sum((1 + x.problem.placements) * x.problem.cost for x in cases))
    check(result)
    return best_i, result


# Large graphs: how many of the screened orders are searched, and placements per search.
FOCUSED_ORDERS = 2
FOCUSED_EVALS = 32


def _arena(r: _Placement) -> int:
    size = r.key[0]
    return align_up(size, 16) if size else 0


def _screened(cases: list[Case], passes: int, st) -> list[_Placement | None]:
    """Screen every order by one placement with all its links (stopped early once worse than the
    best so far), then search the most promising ones from their best start."""
    quick: list[_Placement | None] = []
    limit = None
    for c in cases:
        r = _best_placement(c.problem, c.inplace + c.aliases, limit)
        quick.append(r)
        if r is not None and (limit is None or r.key[0] < limit):
            limit = r.key[0]
        st.advance()
    ranked = sorted((i for i, r in enumerate(quick) if r is not None), key=lambda i: (quick[i].key[0], i))
    results: list[_Placement | None] = [None] * len(cases)
    for i in ranked[:FOCUSED_ORDERS]:
        c = cases[i]
        start = _start(c.problem, c.inplace, c.aliases)
        assert start is not None
        results[i] = _focused(c.problem, c.inplace, c.aliases, passes, FOCUSED_EVALS, start)
    return results


def _start(p: Problem, inplace: list[OverlapRule], aliases: list[OverlapRule],
           limit: int | None = None) -> _Placement | None:
    """The best of no links, all in-place links and all links (None if all exceed ``limit``)."""
    best = None
    for ls in ([], inplace, inplace + aliases):
        cand = _best_placement(p, ls, limit if best is None else best.key[0])
        if cand is not None and (best is None or _arena_key(cand) < _arena_key(best)):
            best = cand
    return best


def _arena_key(r: _Placement) -> tuple[int, int]:
    return (r.key[0], r.key[2])


def _exhaustive(p: Problem, inplace: list[OverlapRule], aliases: list[OverlapRule], passes: int) -> _Placement:
    """Every in-place link toggled in turn (``passes`` times at most), then every alias."""
    best = _best_placement(p, [])
    chosen: list[OverlapRule] = []
    for _ in range(passes):
        improved = False
        for lk in inplace:
            trial = [x for x in chosen if x is not lk] if lk in chosen else chosen + [lk]
            cand = _best_placement(p, trial, best.key[0])
            if cand is not None and _arena_key(cand) < _arena_key(best):
                best, chosen, improved = cand, list(cand.used), True
        if not improved:
            break
    for lk in aliases:
        cand = _best_placement(p, chosen + [lk], best.key[0])
        if cand is not None and lk in cand.used:
            best, chosen = cand, list(cand.used)
    return best


def _focused(p: Problem, inplace: list[OverlapRule], aliases: list[OverlapRule], passes: int,
             max_evals: int, start: _Placement) -> _Placement:
    """A bounded search for large graphs from ``start``: toggles of the in-place links nearest the
    steps where the arena peaks (re-ranked each pass), then all missing aliases at once; at most
    ``max_evals`` placements."""
    best, evals = start, 0
    chosen = list(best.used)
    for _ in range(passes):
        improved = False
        for lk in _near_peak(p, best, inplace):
            if evals >= max_evals:
                break
            have = any(x is lk for x in chosen)
            trial = [x for x in chosen if x is not lk] if have else chosen + [lk]
            cand = _best_placement(p, trial, best.key[0])
            evals += 1
            if cand is not None and _arena_key(cand) < _arena_key(best):
                best, chosen, improved = cand, list(cand.used), True
        if not improved or evals >= max_evals:
            break
    taken = {id(x) for x in chosen}
    missing = [lk for lk in aliases if id(lk) not in taken]
    if missing:
        cand = _best_placement(p, chosen + missing, best.key[0])
        if cand is not None:
            best = cand
    return best


def _near_peak(p: Problem, r: _Placement, inplace: list[OverlapRule]) -> list[OverlapRule]:
    """In-place links by distance of their step from the nearest step where the arena peaks."""
    tops = _step_tops(p, r.offsets)
    lo = min(p.first, default=0)
    high = max(tops, default=0)
    peaks = [s + lo for s, v in enumerate(tops) if v == high]

    def dist(lk: OverlapRule) -> int:  # to the nearest peak step (peaks are sorted)
        k = bisect.bisect_left(peaks, lk.step)
        return min(abs(peaks[j] - lk.step) for j in (k - 1, k) if 0 <= j < len(peaks))
    return sorted(inplace, key=dist)


def check(p: Plan) -> None:
    check_plan(p.buffers, p.links, p.arena_bytes)
