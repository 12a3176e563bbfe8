"""The detectors over what real scenario runs recorded.

tests/fixtures/scenarios/*.json come from scripts/capture-scenario-fixtures
(default guest, TCG): the same stimulus (an NMI pending at every breakpoint
stop, or before the first steps) with QEMU's default single-step flags 0x7
and with 0x1, which lets the interrupt in while stepping."""

import json
from pathlib import Path

from guestdbg import judges, kernlog
from guestdbg.debugger.gdb import Step
from guestdbg.debugger.ledger import parse_remote_log_file
from guestdbg.judges import BreakpointHit, expected_successors

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / "scenarios" / f"{name}.json").read_text())


def hits(name: str) -> list[BreakpointHit]:
    return [BreakpointHit(**h) for h in load(name)["hits"]]


def steps(name: str) -> list[Step]:
    return [Step(**s) for s in load(name)["steps"]]


def test_default_flags_make_progress_and_are_not_stuck() -> None:
    recorded = hits("bp-loop-nmi-default")
    assert len(recorded) == 8
    assert judges.forward_progress(recorded, required=0.5) == []
    assert judges.stuck_breakpoint(recorded, k=4) == []


def test_sstep_0x1_with_nmis_is_stuck() -> None:
    recorded = hits("bp-loop-nmi-sstep1")
    (stuck,) = judges.stuck_breakpoint(recorded, k=4)
    assert stuck.kind == "stuck-breakpoint"
    assert f"at {recorded[0].pc:#x} re-hit 8 times in a row" in stuck.title
    assert "NMI injected before resume" in stuck.evidence["hits"]
    (progress,) = judges.forward_progress(recorded, required=0.5)
    assert progress.title.startswith("7 of 7 resumes")


def test_stuck_needs_k_consecutive_hits() -> None:
    recorded = hits("bp-loop-nmi-sstep1")
    assert judges.stuck_breakpoint(recorded[:3], k=4) == []
    assert judges.stuck_breakpoint(recorded[:4], k=4)


def test_steps_with_default_flags_follow_the_instruction_stream() -> None:
    trace = steps("step-nmi-default")
    assert len(trace) == 200
    assert judges.step_landing(trace) == []


def test_sstep_0x1_lands_in_the_nmi_handler() -> None:
    trace = steps("step-nmi-sstep1")
    findings = {f.kind: f for f in judges.step_landing(trace)}
    handler = findings["stepped-into-interrupt-handler"]
    assert "asm_exc_nmi+0x0" in handler.evidence["steps"]
    assert handler.evidence["steps"].startswith("step 0:")  # the first step, NMI pending


def test_expected_successors_of_real_instructions() -> None:
    trace = steps("step-nmi-default")
    kinds = {s.insn.split()[0] for s in trace}
    assert {"ret", "call"} & kinds or any(k.startswith("j") for k in kinds)
    for s in trace:
        allowed = expected_successors(s)
        if allowed is not None:
            assert s.next_pc in allowed, (hex(s.pc), s.insn, hex(s.next_pc))


def test_rep_and_indirect_instructions() -> None:
    rep = Step(pc=0x1000, insn="rep stos %rax,%es:(%rdi)", length=3, next_pc=0x1000, symbol=None)
    assert expected_successors(rep) == {0x1000, 0x1003}
    ind = Step(pc=0x1000, insn="call   *%rax", length=2, next_pc=0x5000, symbol=None)
    assert expected_successors(ind) is None


def test_ledger_findings_from_the_recorded_lx_symbols_reload() -> None:
    ledger = parse_remote_log_file(FIXTURES / "gdb" / "lxsymbols-reload.remote.log")
    kinds = {f.kind for f in judges.breakpoint_ledger(ledger)}
    assert kinds == {"resume-over-planted-breakpoint", "unbalanced-breakpoints"}
    clean = parse_remote_log_file(FIXTURES / "gdb" / "bp-loop.remote.log")
    assert judges.breakpoint_ledger(clean) == []


def test_tf_leak_and_health_split_real_console_reports() -> None:
    corpus = FIXTURES.parent / "corpus" / "kernlog"
    tf = kernlog.parse_file(corpus / "tf-warn.log")
    nmi = kernlog.parse_file(corpus / "nmi-unknown.log", [kernlog.NMI_AFTER_INJECTION])
    assert [r.title for r in tf] == ["WARNING in exc_debug"]
    (leak,) = judges.tf_leak(tf + nmi)
    assert leak.kind == "tf-leak-warn" and "exc_debug" in leak.evidence["console"]
    assert judges.guest_health(nmi) == []  # declared expected
    assert [
        f.kind for f in judges.guest_health(kernlog.parse_file(corpus / "nmi-unknown.log"))
    ] == ["console-nmi"]  # not declared: a finding
    eflags = judges.tf_leak([], [("hit 0", 0x202), ("hit 1", 0x302)])
    assert [f.kind for f in eflags] == ["tf-set-at-stop"]


def test_early_boot_fentry_calls_are_ordinary_calls() -> None:
    """Debian's kernel at start_kernel: `call __fentry__` is not patched out
    yet; stepping into it is the call's target, not an oddity."""
    trace = steps("early-boot-debian")
    fentry = [s for s in trace if "__fentry__" in s.insn]
    assert fentry and all(s.symbol == "__fentry__+0x0" for s in fentry)
    assert judges.step_landing(trace) == []


def test_a_single_stalled_step_is_counted_not_judged() -> None:
    """The recorded sstep=0x1 run has one stepi that left the PC in place
    (inside the NMI handler); alone it is counted, twice in a row it is a
    finding. The repeat below is that recorded step used twice."""
    trace = steps("step-nmi-sstep1")
    stalled = [s for s in trace if s.next_pc == s.pc]
    assert len(stalled) == 1 and judges.stalled_steps(trace) == 1
    assert "step-stalled" not in {f.kind for f in judges.step_landing(trace)}
    (finding,) = judges.step_landing([stalled[0], stalled[0]])
    assert finding.kind == "step-stalled"
