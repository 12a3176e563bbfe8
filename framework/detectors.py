"""The judges. Each reads what a scenario recorded and returns findings.

A :class:`Finding` is data: which detector, what kind of defect, a one-line
title, the evidence (registers, packets, console text) and where to look.
Detectors never raise and never decide pass/fail: the scenario says which
findings it expects (a positive control expects its defect), and the pytest
plugin turns the rest into verdicts.

Detectors here:
- :func:`forward_progress` — resumes from a breakpoint that did not move on;
- :func:`stuck_breakpoint` — K hits in a row at the same PC/SP/counter;
- :func:`step_landing` — stepi that ended anywhere but the next instruction
  or the branch target; IDT entry stubs named as interrupt handlers;
- :func:`tf_leak` — the exc_debug WARN on the console, or EFLAGS.TF set at
  a stop where the debugger did not set it;
- :func:`breakpoint_ledger` — a resume over a planted software breakpoint,
  and inserts/removes that do not balance;
- :func:`guest_health` — any console report the scenario did not expect.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from framework.gdb import Step
from framework.ledger import BreakpointLedger

EFLAGS_TF = 0x100
EFLAGS_IF = 0x200

# IDT entry stubs of x86-64 Linux (arch/x86/include/asm/idtentry.h): where a
# vCPU goes when an interrupt or exception is delivered.
IDT_STUB_RE = re.compile(
    r"^(asm_exc_\w+|asm_sysvec_\w+|asm_common_interrupt|asm_spurious_interrupt|"
    r"asm_\w*interrupt\w*|entry_INT80\w*)\+0x0$"
)
# Vector stubs: one small entry per vector inside these, at any offset.
VECTOR_STUBS_RE = re.compile(r"^(irq_entries_start|spurious_entries_start)\+0x[0-9a-f]+$")
DIRECT_TARGET_RE = re.compile(r"^\S+\s+(0x[0-9a-f]+)")
# Instructions whose successor cannot be computed from the instruction alone.
UNPREDICTABLE = (
    "ret",
    "iret",
    "sysret",
    "sysexit",
    "syscall",
    "sysenter",
    "int",
    "ud2",
    "hlt",
    "lret",
    "into",
    "vmcall",
    "vmmcall",
)


@dataclass(frozen=True)
class Finding:
    """One defect a detector found, with its evidence."""

    detector: str
    kind: str
    title: str
    evidence: dict[str, str] = field(default_factory=dict)
    where: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        lines = [f"[{self.detector}] {self.title}"]
        for name, text in self.evidence.items():
            lines.append(f"  {name}:")
            lines.extend(f"    {ln}" for ln in str(text).rstrip().splitlines()[:40])
        if self.where:
            lines.append(f"  look at: {self.where}")
        return "\n".join(lines)


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

    def describe(self) -> str:
        flags = "IF" if self.eflags & EFLAGS_IF else "if"
        if self.eflags & EFLAGS_TF:
            flags += " TF"
        nmi = ", NMI injected before resume" if self.nmi_injected else ""
        return (
            f"hit {self.index}: cpu-thread {self.thread} pc={self.pc:#x} sp={self.sp:#x} "
            f"counter={self.counter} eflags={self.eflags:#x} ({flags}){nmi}"
        )


class ReportLike(Protocol):
    """What the detectors need of a console report (framework.kernlog.KernelReport)."""

    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def tf_leak(self) -> bool: ...
    @property
    def raw(self) -> str: ...


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


def expected_successors(step: Step) -> set[int] | None:
    """Where ``step.insn`` may legitimately go, or None when that cannot be
    known from the instruction (returns, indirect branches, traps)."""
    text = step.insn.strip()
    words = text.split()
    if not words:
        return None
    prefixes = ("rep", "repz", "repnz", "repe", "repne", "lock", "notrack", "bnd", "cs", "ds")
    while words and words[0] in prefixes:
        if words[0].startswith("rep"):
            # A rep string instruction single-steps one iteration at a time.
            return {step.pc, step.pc + step.length}
        words = words[1:]
    if not words:
        return None
    op = words[0]
    fallthrough = step.pc + step.length
    if op.startswith(UNPREDICTABLE) or op in ("int3",):
        return None
    if op.startswith(("jmp", "call")):
        m = DIRECT_TARGET_RE.match(" ".join(words))
        if not m or "*" in text:
            return None  # indirect
        return {int(m.group(1), 16)}
    if op.startswith(("j", "loop")):  # conditional jumps, jrcxz, loop*
        m = DIRECT_TARGET_RE.match(" ".join(words))
        return {fallthrough, int(m.group(1), 16)} if m else None
    return {fallthrough}


def _stalled(s: Step) -> bool:
    """A stepi that left the PC where it was (and is not a rep iteration)."""
    allowed = expected_successors(s)
    return s.next_pc == s.pc and not (allowed and s.pc in allowed)


def stalled_steps(steps: Sequence[Step]) -> int:
    """How many stepi did not move the PC: under TCG with QEMU's default flags
    one occasionally does not execute its instruction (the same quirk as a
    breakpoint re-hit); the next stepi then does."""
    return sum(1 for s in steps if _stalled(s))


def step_landing(steps: Sequence[Step], stall_limit: int = 2) -> list[Finding]:
    """Each stepi must end at the next instruction or the branch target.

    A single stepi that stays on its instruction is counted, not judged (see
    :func:`stalled_steps`); ``stall_limit`` in a row on the same instruction
    is a finding (``step-stalled``)."""
    findings = []
    handler_hits: list[str] = []
    odd: list[str] = []
    stalls: list[str] = []
    run = 0
    for i, s in enumerate(steps):
        if _stalled(s):
            run = run + 1 if i and _stalled(steps[i - 1]) and steps[i - 1].pc == s.pc else 1
            if run == stall_limit:
                stalls.append(f"step {i}: {s.pc:#x}: {s.insn!r} stayed put {run} times in a row")
            continue
        if s.fell_through:
            continue
        allowed = expected_successors(s)
        # Delivery of an interrupt or exception lands on an IDT entry point;
        # a ret back into the middle of a stub is ordinary handler code.
        in_handler = bool(
            s.symbol and (IDT_STUB_RE.match(s.symbol) or VECTOR_STUBS_RE.match(s.symbol))
        )
        if allowed is not None and s.next_pc in allowed:
            continue
        if allowed is None and not in_handler:
            continue  # ret/indirect to an ordinary place: nothing to judge
        line = f"step {i}: {s.pc:#x}: {s.insn!r} -> {s.next_pc:#x} {s.symbol or '(no symbol)'}"
        (handler_hits if in_handler else odd).append(line)
    if handler_hits:
        findings.append(
            Finding(
                "step_landing",
                "stepped-into-interrupt-handler",
                f"{len(handler_hits)} of {len(steps)} single-steps stepped into an interrupt "
                f"handler instead of the next instruction",
                {"steps": "\n".join(handler_hits[:20])},
            )
        )
    if stalls:
        findings.append(
            Finding(
                "step_landing",
                "step-stalled",
                f"{len(stalls)} instruction(s) did not execute under {stall_limit} or more "
                "single-steps in a row",
                {"steps": "\n".join(stalls[:20])},
            )
        )
    if odd:
        findings.append(
            Finding(
                "step_landing",
                "step-went-elsewhere",
                f"{len(odd)} of {len(steps)} single-steps ended neither at the next instruction "
                "nor at the branch target",
                {"steps": "\n".join(odd[:20])},
            )
        )
    return findings


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


def breakpoint_ledger(ledger: BreakpointLedger, where: str = "") -> list[Finding]:
    """gdb resumed over a planted software breakpoint, or its inserts and
    removes do not balance (what the remote-protocol log proves)."""
    findings = []
    planted = ledger.resumes_over_planted()
    if planted:
        findings.append(
            Finding(
                "breakpoint_ledger",
                "resume-over-planted-breakpoint",
                f"gdb resumed a vCPU at {planted[0].addr:#x} with a software breakpoint still "
                f"planted there ({len(planted)} time(s)): under KVM the int3 stays in guest memory",
                {"packets": "\n".join(p.detail for p in planted[:10])},
                where,
            )
        )
    unbalanced = ledger.unbalanced()
    if unbalanced:
        findings.append(
            Finding(
                "breakpoint_ledger",
                "unbalanced-breakpoints",
                f"{len(unbalanced)} breakpoint insert/remove(s) do not balance "
                f"({', '.join(sorted({p.what for p in unbalanced}))})",
                {"packets": "\n".join(p.detail for p in unbalanced[:10])},
                where,
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
