"""Judges of the guest console: the TF-leak WARN (and EFLAGS.TF at stops),
and guest health (any kernel report the scenario did not expect)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from guestdbg.judges.findings import EFLAGS_TF, Finding


class ReportLike(Protocol):
    """What the detectors need of a console report (guestdbg.kernlog.KernelReport)."""

    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def tf_leak(self) -> bool: ...
    @property
    def raw(self) -> str: ...


def tf_leak(
    reports: Iterable[ReportLike], eflags_at_stops: Sequence[tuple[str, int]] = ()
) -> list[Finding]:
    """The host's single-step TF seen by the guest: the WARN in exc_debug on the
    console, or EFLAGS.TF set at a stop where the debugger did not set it."""
    findings = []
    for r in reports:
        if r.tf_leak:
            findings.append(
                Finding(
                    "tf_leak",
                    "tf-leak-warn",
                    f"the guest reported single-step TF it did not set: {r.title}",
                    {"console": r.raw},
                )
            )
    set_tf = [(where, fl) for where, fl in eflags_at_stops if fl & EFLAGS_TF]
    if set_tf:
        findings.append(
            Finding(
                "tf_leak",
                "tf-set-at-stop",
                f"EFLAGS.TF was set at {len(set_tf)} stop(s) where the debugger did not set it",
                {"stops": "\n".join(f"{w}: eflags={fl:#x}" for w, fl in set_tf[:20])},
            )
        )
    return findings


def guest_health(
    reports: Iterable[ReportLike], expected: Sequence[str | re.Pattern[str]] = (), where: str = ""
) -> list[Finding]:
    """Any console report (WARNING, BUG, Oops, panic, lockup, stall) the
    scenario did not declare expected: reports the parser marked ``expected``
    (kernlog.Expected) and those whose title matches an ``expected`` regex
    are not findings."""
    patterns = [re.compile(p) if isinstance(p, str) else p for p in expected]
    findings = []
    for r in reports:
        if getattr(r, "expected", False) or any(p.search(r.title) for p in patterns):
            continue
        findings.append(
            Finding(
                "guest_health",
                f"console-{r.kind.lower()}",
                f"the guest console reported: {r.title}",
                {"console": r.raw},
                where,
            )
        )
    return findings


def is_debugger_breakpoint_taken(report: ReportLike) -> bool:
    """An ``int3:`` Oops: the guest executed an int3 it did not plant itself
    (``do_int3`` found no kprobe, kgdb or text_poke owner) — under a debugger,
    a software breakpoint the hypervisor should have intercepted."""
    return report.kind == "OOPS" and report.title.startswith("int3")


def debugger_breakpoint_taken(reports: Iterable[ReportLike], where: str = "") -> list[Finding]:
    """The guest took the debugger's software breakpoint (the int3 went to the
    guest's own #BP handler instead of exiting to the debugger): the guest
    Oopses ``int3: 0000 [#1]`` at the breakpoint address + 1."""
    return [
        Finding(
            "breakpoint_delivery",
            "guest-took-debugger-breakpoint",
            f"the guest took the debugger's breakpoint: {r.title} (the int3 was delivered "
            "to the guest instead of exiting to the debugger)",
            {"console": r.raw},
            where,
        )
        for r in reports
        if is_debugger_breakpoint_taken(r)
    ]
