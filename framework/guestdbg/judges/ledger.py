"""The judge of gdb's breakpoint packets: a resume over a planted software
breakpoint, and inserts/removes that do not balance."""

from __future__ import annotations

from guestdbg.debugger.ledger import BreakpointLedger
from guestdbg.judges.findings import Finding


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
