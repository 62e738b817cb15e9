"""Progress on stderr for the steps that can take a while (import, calibration, pruning, planning,
code generation, compilation, emulated runs).

Shown only when stderr is a terminal and progress is enabled (the CLI's ``--quiet`` turns it
off), so pipes, logs and tests see nothing. Steps nest: each is one transient row (spinner,
description, bar when the total is known, count, elapsed time) that disappears when the step
ends. Library code opens steps with ``step(...)`` and never needs to know whether they show.
"""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, TypeVar

T = TypeVar("T")

_enabled = True
_lock = threading.Lock()
_display: Any = None  # the shared rich Progress while a step is open
_open = 0


def set_enabled(on: bool) -> None:
    """Turn progress display on or off for this process (the CLI's ``--quiet``)."""
    global _enabled
    _enabled = bool(on)


def shown() -> bool:
    """Whether steps are displayed: enabled and stderr is a terminal."""
    try:
        return _enabled and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


class Step:
    """One open step: ``advance`` it as work completes; a no-op when progress is not shown."""

    def __init__(self, display: Any = None, task: Any = None):
        self._display = display
        self._task = task

    def advance(self, n: int = 1) -> None:
        if self._display is not None:
            self._display.advance(self._task, n)

    def update(self, description: str | None = None, total: int | None = None) -> None:
        if self._display is not None:
            kw: dict[str, Any] = {}
            if description is not None:
                kw["description"] = description
            if total is not None:
                kw["total"] = total
            self._display.update(self._task, **kw)


def _new_display() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=30),
                    TextColumn("{task.fields[count]}"), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True, refresh_per_second=8)


class _Counted(Step):
    """A shown step: keeps the count column ("12/32 samples") up to date."""

    def __init__(self, display: Any, task: Any, unit: str):
        super().__init__(display, task)
        self._unit = unit
        self._done = 0
        self._total: int | None = None

    def _count(self) -> str:
        if self._total is None:
            return f"{self._done} {self._unit}".strip() if self._done else ""
        return f"{self._done}/{self._total} {self._unit}".strip()

    def advance(self, n: int = 1) -> None:
        self._done += n
        self._display.update(self._task, advance=n, count=self._count())

    def update(self, description: str | None = None, total: int | None = None) -> None:
        if total is not None:
            self._total = total
        kw: dict[str, Any] = {"count": self._count()}
        if description is not None:
            kw["description"] = description
        if total is not None:
            kw["total"] = total
        self._display.update(self._task, **kw)


@contextmanager
def step(description: str, total: int | None = None, unit: str = "") -> Iterator[Step]:
    """A step of work shown as one transient row while it runs (nothing when not shown).

    ``total`` (if known) draws a bar and an ``advance`` count in ``unit``s; without it the row
    shows a spinner and the elapsed time, for work that reports no progress (a compiler run).
    """
    global _display, _open
    if not shown():
        yield Step()
        return
    with _lock:
        if _display is None:
            _display = _new_display()
            _display.start()
        task = _display.add_task(description, total=total, count="")
        _open += 1
        st = _Counted(_display, task, unit)
        if total is not None:
            st.update(total=total)
    try:
        yield st
    finally:
        with _lock:
            _display.remove_task(task)
            _open -= 1
            if _open == 0:
                _display.stop()
                _display = None


def track(items: Iterable[T], description: str, total: int | None = None, unit: str = "") -> Iterator[T]:
    """Iterate ``items`` inside a step that advances once per item."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with step(description, total, unit) as st:
        for it in items:
            yield it
            st.advance()
