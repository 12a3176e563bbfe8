"""Judges of breakpoint resume loops: forward progress and stuck breakpoints."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from guestdbg.judges.findings import EFLAGS_IF, EFLAGS_TF, Finding


@dataclass(frozen=True)
class BreakpointHit:
    """What the scenario read at one breakpoint stop."""

    index: int
    pc: int
    sp: int
    eflags: int
    counter: int  # the test module's call number (RDI of guestdbg_tick) or a counter variable
    thread: int | None = None
    nmi_injected: bool = False
    # When gdb reported the stop: host seconds since the loop's first resume
    # (None in recordings from before it was kept).
    seconds: float | None = None

    def describe(self) -> str:
        flags = "IF" if self.eflags & EFLAGS_IF else "if"
        if self.eflags & EFLAGS_TF:
            flags += " TF"
        nmi = ", NMI injected before resume" if self.nmi_injected else ""
        return (
            f"hit {self.index}: cpu-thread {self.thread} pc={self.pc:#x} sp={self.sp:#x} "
            f"counter={self.counter} eflags={self.eflags:#x} ({flags}){nmi}"
        )


def forward_progress(hits: Sequence[BreakpointHit], required: float = 1.0) -> list[Finding]:
    """Resumes from a breakpoint must reach a *new* call (the counter advanced)
    rather than re-execute the same one.

    ``required``: the fraction of resumes that must progress (1.0: all)."""
    resumes = list(itertools.pairwise(hits))
    if not resumes:
        return []
    stalled = [(a, b) for a, b in resumes if b.counter <= a.counter]
    if len(resumes) - len(stalled) >= required * len(resumes):
        return []
    return [
        Finding(
            "forward_progress",
            "no-progress",
            f"{len(stalled)} of {len(resumes)} resumes from the breakpoint made no progress "
            f"(counter {hits[0].counter} -> {hits[-1].counter})",
            {
                "resumes without progress": "\n".join(
                    f"{a.describe()}\n  -> {b.describe()}" for a, b in stalled[:10]
                )
            },
        )
    ]


def stuck_breakpoint(hits: Sequence[BreakpointHit], k: int = 4) -> list[Finding]:
    """The same breakpoint re-hit ``k`` times in a row with nothing changing:
    same PC, same stack pointer, same counter (the real KVM bug: an interrupt
    injected on every resume lands the step-over in the handler, which returns
    to the breakpoint)."""
    best: list[BreakpointHit] = []
    run: list[BreakpointHit] = []
    for hit in hits:
        if run and (hit.pc, hit.sp, hit.counter) == (run[-1].pc, run[-1].sp, run[-1].counter):
            run.append(hit)
        else:
            run = [hit]
        if len(run) > len(best):
            best = list(run)
    if len(best) < k:
        return []
    first = best[0]
    return [
        Finding(
            "stuck_breakpoint",
            "stuck-breakpoint",
            f"breakpoint at {first.pc:#x} re-hit {len(best)} times in a row without progress "
            f"(counter stayed {first.counter}, sp {first.sp:#x})",
            {
                "hits": "\n".join(h.describe() for h in best),
                "interrupt state": ", ".join(
                    f"IF={'1' if h.eflags & EFLAGS_IF else '0'}" for h in best
                ),
            },
        )
    ]
