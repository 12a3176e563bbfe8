"""Controls of the TF-leak judge: EFLAGS.TF set in kernel mode by the test
module (the console WARN) and seen at a debugger stop."""

from __future__ import annotations

from guestdbg.scenarios.session import TRIGGER, ScenarioResult, Session, finish


def tf_trigger(s: Session) -> ScenarioResult:
    """Positive control for the TF-leak detector: the test module sets
    EFLAGS.TF in kernel mode, exactly what a leaked host single-step looks like."""
    s.ensure_module()
    result = ScenarioResult("tf_trigger", "set EFLAGS.TF in kernel mode with the test module")
    s.guest.run(f"echo tf > {TRIGGER}")
    return finish(s, result)


def tf_seen_at_stop(s: Session) -> ScenarioResult:
    """Positive control for the EFLAGS half of the TF-leak detector: stop in
    guestdbg_set_tf and single-step through its ``popf``, which sets TF in
    kernel mode; the stop on the following instruction sees EFLAGS.TF that the
    debugger did not set (as a leaked host single-step would look)."""
    s.ensure_module()
    set_tf = s.kallsyms("guestdbg_set_tf")
    # Runs in the guest while gdb holds it; fires once the guest resumes.
    s.guest.run(f"(sleep 1; echo tf > {TRIGGER}) &")
    dbg = s.debugger
    dbg.attach(s.guest)
    result = ScenarioResult(
        "tf_seen_at_stop",
        f"stopped at guestdbg_set_tf ({set_tf:#x}) with a hardware breakpoint and "
        "single-stepped through its popf, reading EFLAGS at every stop",
    )
    bp = dbg.break_insert(f"*{set_tf:#x}", hardware=True)
    stop = s.run_to_breakpoint(result, "tf_leak", "the breakpoint on guestdbg_set_tf")
    dbg.break_delete(bp)
    if stop is None:
        return finish(s, result)
    eflags_at_stops = []
    previous = ""
    for _ in range(8):  # pushf; orq; popf; nop (a patched __fentry__ call may come first)
        regs = dbg.registers(("rip", "eflags"))
        insn = dbg.console(f"x/i {regs['rip']:#x}").split(":", 1)[-1].strip()
        eflags_at_stops.append((f"{regs['rip']:#x} before {insn!r}", regs["eflags"]))
        if previous.startswith("popf"):
            break
        previous = insn
        dbg.stepi()
    result.data["stops"] = [{"where": w, "eflags": fl} for w, fl in eflags_at_stops]
    return finish(s, result, eflags_at_stops=eflags_at_stops)
