"""The judge of single-steps: each stepi must end at the next instruction or
the branch target; IDT entry stubs are named as interrupt handlers."""

from __future__ import annotations

import re
from collections.abc import Sequence

from guestdbg.debugger.gdb import Step
from guestdbg.judges.findings import Finding

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


def is_stalled(s: Step) -> bool:
    """A stepi that left the PC where it was (and is not a rep iteration)."""
    allowed = expected_successors(s)
    return s.next_pc == s.pc and not (allowed and s.pc in allowed)


def stalled_steps(steps: Sequence[Step]) -> int:
    """How many stepi did not move the PC: under TCG with QEMU's default flags
    one occasionally does not execute its instruction (the same quirk as a
    breakpoint re-hit); the next stepi then does."""
    return sum(1 for s in steps if is_stalled(s))


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
        if is_stalled(s):
            run = run + 1 if i and is_stalled(steps[i - 1]) and steps[i - 1].pc == s.pc else 1
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
