"""Interrupts injected while single-stepping: the mechanism of the bug this
project exists for, seen from both sides.

KVM single-steps a guest with RFLAGS.TF. Without ``KVM_GUESTDBG_BLOCKIRQ``
(Linux < 5.15, where QEMU falls back to single-step flags 0x1) KVM injects
pending interrupts on the VM entry of a step, so the debugger lands in a
handler, a breakpoint is re-hit forever, TF leaks onto the guest's interrupt
stack. Seen from the host: ``kvm:kvm_inj_virq`` events in the host's tracefs
between the first and the last step (``kvm:kvm_exit`` counts the steps'
#DB exits). Seen from the guest: ``jiffies`` advancing across steps taken
with interrupts enabled (the timer interrupt ran). Both views work when an
outer TCG hides where the step lands (see :mod:`guestdbg.runtime.nested`).

Only the stepped vCPU counts. QEMU's gdbstub lets the other vCPUs run during
a step (all-stop mode resumes the machine), so they take their timer
interrupts as they should: on the host side each event's thread (one QEMU
thread per vCPU) is attributed, and the stepped vCPU is the one whose exits
are the steps' #DB; on the guest side the measure is the stepped CPU's own
local-timer interrupt count when there are several CPUs (jiffies, which any
CPU's tick advances, when there is one).

The trace text is tracefs' ``trace`` file; the event formats of Linux 5.10
and 6.1 are both handled (``IRQ 0xec`` and ``irq 236``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from guestdbg.judges.findings import Finding

INJECTED = "interrupt-injected-while-stepping"
GUEST_TIMER = "guest-timer-ran-while-stepping"

_THREAD_RE = re.compile(r"^\s*.+-(\d+)\s+(?:\(\s*\S+\)\s+)?\[\d+\]")
_INJ_RE = re.compile(r"kvm_inj_virq: (?:IRQ|irq) (0x[0-9a-fA-F]+|\d+)")
_EXIT_RE = re.compile(r"kvm_exit: (?:vcpu \d+ )?reason (.+?) rip (?:0x)?[0-9a-fA-F]+")
# The steps' own exits: #DB intercepts (SVM "DB excp", VMX "EXCEPTION_NMI" with #DB).
STEP_EXIT_REASONS = ("DB excp", "EXCEPTION_NMI")


@dataclass(frozen=True)
class KvmTrace:
    """What the host's KVM did during a step run, from its tracefs, per vCPU
    thread (the trace's ``comm-TID``)."""

    injections: list[tuple[int, int, str]] = field(default_factory=list)  # (tid, vector, line)
    exits: dict[int, Counter[str]] = field(default_factory=dict)  # tid -> reason -> count

    @property
    def stepped_threads(self) -> set[int]:
        """The vCPU threads that exited for the steps' #DB."""
        return {tid for tid, c in self.exits.items() if any(c[r] for r in STEP_EXIT_REASONS)}

    def injected(self, threads: set[int] | None = None) -> list[tuple[int, int, str]]:
        """Injections on ``threads`` (default: the stepped ones)."""
        threads = self.stepped_threads if threads is None else threads
        return [i for i in self.injections if i[0] in threads]

    @property
    def vectors(self) -> Counter[int]:
        """Vectors injected into the stepped vCPU."""
        return Counter(v for _, v, _ in self.injected())

    def exit_reasons(self, threads: set[int] | None = None) -> Counter[str]:
        threads = self.stepped_threads if threads is None else threads
        total: Counter[str] = Counter()
        for tid in threads:
            total.update(self.exits.get(tid, Counter()))
        return total


def parse_kvm_trace(text: str) -> KvmTrace:
    """``kvm:kvm_inj_virq`` and ``kvm:kvm_exit`` events of a tracefs ``trace`` text."""
    injections = []
    exits: dict[int, Counter[str]] = {}
    for line in text.splitlines():
        t = _THREAD_RE.match(line)
        tid = int(t.group(1)) if t else -1
        m = _INJ_RE.search(line)
        if m:
            injections.append((tid, int(m.group(1), 0), line.strip()))
            continue
        m = _EXIT_RE.search(line)
        if m:
            exits.setdefault(tid, Counter())[m.group(1).strip()] += 1
    return KvmTrace(injections, exits)


_TIME_RE = re.compile(r"\s(\d+\.\d+):\s")


def stepped_vcpu_timeline(text: str) -> tuple[list[float], list[float]]:
    """When (tracefs seconds) the stepped vCPU's single-step exits happened and
    when interrupts were injected into it: the judge's evidence over time, for
    the report's timeline. The stepped vCPU is the thread with the most step
    exits."""
    steps: dict[int, list[float]] = {}
    injected: dict[int, list[float]] = {}
    for line in text.splitlines():
        t = _TIME_RE.search(line)
        if not t:
            continue
        th = _THREAD_RE.match(line)
        tid = int(th.group(1)) if th else -1
        if _INJ_RE.search(line):
            injected.setdefault(tid, []).append(float(t.group(1)))
            continue
        m = _EXIT_RE.search(line)
        if m and m.group(1).strip() in STEP_EXIT_REASONS:
            steps.setdefault(tid, []).append(float(t.group(1)))
    if not steps:
        return [], [t for ts in injected.values() for t in ts]
    tid = max(steps, key=lambda k: len(steps[k]))
    return steps[tid], injected.get(tid, [])


def interrupts_while_stepping(
    steps: int,
    timer_before: int,
    timer_after: int,
    interrupts_enabled: bool,
    host_trace: KvmTrace | None,
    where: str = "",
    measure: str = "jiffies",
) -> list[Finding]:
    """Findings when interrupts were delivered to the stepped vCPU during
    ``steps`` single-steps.

    Host side (``host_trace``, None where the host is out of reach): any
    ``kvm_inj_virq`` into the stepped vCPU between the first and the last
    step. Guest side: ``measure`` (jiffies, or the stepped CPU's local-timer
    interrupt count) moved from ``timer_before`` to ``timer_after`` although
    every step was taken with IF set (a step with IF clear cannot take an
    interrupt, so then the guest side is not judged)."""
    findings = []
    injected = host_trace.injected() if host_trace is not None else []
    if host_trace is not None and injected:
        vectors = ", ".join(f"{v:#x} x{n}" for v, n in sorted(host_trace.vectors.items()))
        exits = ", ".join(f"{r} x{n}" for r, n in host_trace.exit_reasons().most_common(6))
        findings.append(
            Finding(
                "interrupts_while_stepping",
                INJECTED,
                f"the host's KVM injected {len(injected)} interrupt(s) into the stepped vCPU "
                f"during {steps} single-steps (vectors {vectors}): the guest ran interrupt "
                "handlers inside steps (no KVM_GUESTDBG_BLOCKIRQ in effect)",
                {
                    "kvm_inj_virq events (host tracefs)": "\n".join(
                        line for _, _, line in injected[:12]
                    ),
                    "the stepped vCPU's kvm_exit reasons": exits or "(none traced)",
                },
                where,
            )
        )
    delta = timer_after - timer_before
    if interrupts_enabled and delta > 0:
        findings.append(
            Finding(
                "interrupts_while_stepping",
                GUEST_TIMER,
                f"the guest's {measure} advanced by {delta} across {steps} single-steps taken "
                "with interrupts enabled: the timer interrupt ran inside the steps",
                {measure: f"{timer_before} before the first step, {timer_after} after"},
                where,
            )
        )
    return findings
