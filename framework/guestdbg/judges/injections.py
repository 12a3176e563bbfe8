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

The trace text is tracefs' ``trace`` file; the event formats of Linux 5.10
and 6.1 are both handled (``IRQ 0xec`` and ``irq 236``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from guestdbg.judges.findings import Finding

INJECTED = "interrupt-injected-while-stepping"
JIFFIES = "jiffies-advanced-while-stepping"

_INJ_RE = re.compile(r"kvm_inj_virq: (?:IRQ|irq) (0x[0-9a-fA-F]+|\d+)")
_EXIT_RE = re.compile(r"kvm_exit: (?:vcpu \d+ )?reason (.+?) rip (?:0x)?[0-9a-fA-F]+")


@dataclass(frozen=True)
class KvmTrace:
    """What the host's KVM did during a step run, from its tracefs."""

    injections: list[tuple[int, str]] = field(default_factory=list)  # (vector, trace line)
    exits: Counter[str] = field(default_factory=Counter)  # exit reason -> count

    @property
    def vectors(self) -> Counter[int]:
        return Counter(v for v, _ in self.injections)


def parse_kvm_trace(text: str) -> KvmTrace:
    """``kvm:kvm_inj_virq`` and ``kvm:kvm_exit`` events of a tracefs ``trace`` text."""
    injections = []
    exits: Counter[str] = Counter()
    for line in text.splitlines():
        m = _INJ_RE.search(line)
        if m:
            injections.append((int(m.group(1), 0), line.strip()))
            continue
        m = _EXIT_RE.search(line)
        if m:
            exits[m.group(1).strip()] += 1
    return KvmTrace(injections, exits)


def interrupts_while_stepping(
    steps: int,
    jiffies_before: int,
    jiffies_after: int,
    interrupts_enabled: bool,
    host_trace: KvmTrace | None,
    where: str = "",
) -> list[Finding]:
    """Findings when interrupts were delivered during ``steps`` single-steps.

    host side (``host_trace``, None where the host is out of reach): any
    ``kvm_inj_virq`` between the first and the last step. Guest side: jiffies
    moved although every step was taken with IF set (a step with IF clear
    cannot take an interrupt, so then the guest side is not judged)."""
    findings = []
    if host_trace is not None and host_trace.injections:
        vectors = ", ".join(f"{v:#x} x{n}" for v, n in sorted(host_trace.vectors.items()))
        exits = ", ".join(f"{r} x{n}" for r, n in host_trace.exits.most_common(6))
        findings.append(
            Finding(
                "interrupts_while_stepping",
                INJECTED,
                f"the host's KVM injected {len(host_trace.injections)} interrupt(s) during "
                f"{steps} single-steps (vectors {vectors}): the guest ran interrupt handlers "
                "inside steps (no KVM_GUESTDBG_BLOCKIRQ in effect)",
                {
                    "kvm_inj_virq events (host tracefs)": "\n".join(
                        line for _, line in host_trace.injections[:12]
                    ),
                    "kvm_exit reasons during the steps": exits or "(none traced)",
                },
                where,
            )
        )
    delta = jiffies_after - jiffies_before
    if interrupts_enabled and delta > 0:
        findings.append(
            Finding(
                "interrupts_while_stepping",
                JIFFIES,
                f"the guest's jiffies advanced by {delta} across {steps} single-steps taken "
                "with interrupts enabled: the timer interrupt ran while the debugger held "
                "the guest between steps",
                {"jiffies": f"{jiffies_before} before the first step, {jiffies_after} after"},
                where,
            )
        )
    return findings
