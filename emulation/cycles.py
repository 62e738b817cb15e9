"""An estimate of cycles from the instruction classes that the QEMU plugin counts.

QEMU has no timing model; what it gives exactly is which instructions ran. For cores whose
technical reference manual publishes per-instruction cycle counts, this module applies them to
the plugin's class counts (emulation/plugin/icount.c, classes=1):

- Cortex-M4 (TRM r0p1, table 3-1 "Processor instruction set summary"): data processing and every
  multiply, multiply-accumulate and DSP instruction (MUL, MLA, SMLAD, SMULL, SMLAL, ...) 1 cycle;
  a single load or store 2, or 1 when it follows another single load or store ("neighboring load
  and store single instructions can pipeline their address and data phases"); LDM/STM/PUSH/POP
  1 + N (N registers), LDRD/STRD 1 + 2; a branch 1, plus P when taken; SDIV/UDIV 2..12.
- Cortex-M3 (TRM r2p1, table 3-1): as the M4 except MLA/MLS 2, SMULL/UMULL 3..5, SMLAL/UMLAL
  4..7 (the M3 has no DSP instructions).

P, the pipeline refill after a taken branch, is 1..3 cycles "depending on the alignment and width
of the target instruction, and whether the processor manages to speculate the address early";
the estimate takes 2, and the midpoint of every other range. Memory is taken as zero-wait-state,
as the TRMs' tables are (flash wait states hidden by the vendors' prefetch / cache accelerators).
This is an estimate, labelled as such wherever it is shown; the instruction count stays the
exact, deterministic figure. Cores without such a table (the dual-issue Cortex-M7, the beat-wise
MVE pipeline of the Cortex-M55, the Cortex-A cores) get no estimate.
"""
from __future__ import annotations

from typing import Mapping

#: The plugin's counts, in its order: the instruction classes, then "regs" and "taken".
CLASSES = ("alu", "mul", "mla", "mull", "mlal", "div", "ldst", "ldst_next", "multi", "branch", "loop", "vldst",
           "vec")
EXTRA = ("regs", "taken")
#: Pipeline refill after a taken branch (1..3 in the TRMs).
REFILL = 2.0

_M4 = {"alu": 1.0, "mul": 1.0, "mla": 1.0, "mull": 1.0, "mlal": 1.0, "div": 7.0, "ldst": 2.0, "ldst_next": 1.0,
       "multi": 1.0, "regs": 1.0, "branch": 1.0, "taken": REFILL, "vldst": 2.0, "vec": 1.0}
_M3 = dict(_M4, mla=2.0, mull=4.0, mlal=5.5)

#: Cycles per counted unit, per core (the cores whose TRM gives instruction timings).
TIMINGS: dict[str, dict[str, float]] = {"cortex-m4": _M4, "cortex-m3": _M3}


def has_estimate(core: str) -> bool:
    """Whether ``core`` has a timing table here."""
    return core in TIMINGS


def estimate(counts: Mapping[str, int | float], core: str) -> float | None:
    """Estimated cycles of the class ``counts`` (names as in CLASSES + EXTRA) on ``core``; None
    without a table. A class the core cannot execute (e.g. MVE on an M4) is an error."""
    table = TIMINGS.get(core)
    if table is None:
        return None
    total = 0.0
    for name, n in counts.items():
        if not n:
            continue
        if name not in table:
            raise ValueError(f"{core} has no timing for instruction class {name!r} ({n} executed)")
        total += table[name] * float(n)
    return total


def milliseconds(cycles: float | None, clock_hz: int | None) -> float | None:
    """The time of ``cycles`` at ``clock_hz`` (None when either is unknown)."""
    if cycles is None or not clock_hz:
        return None
    return cycles / clock_hz * 1e3
