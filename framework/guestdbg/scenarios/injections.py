"""Interrupts injected while single-stepping, read on both sides: the host's
KVM (tracefs of a nested KVM host) and the guest (jiffies across the steps).

The known-good run and the positive control are the same scenario on
different hosts: on a host whose KVM has ``KVM_GUESTDBG_BLOCKIRQ`` QEMU
steps with flags 0x3 and nothing may be injected; on one without it (Debian
11's 5.10) QEMU falls back to 0x1 and the judge must see the injections.
"""

from __future__ import annotations

from collections import Counter

from guestdbg import judges
from guestdbg.judges.findings import EFLAGS_IF
from guestdbg.judges.injections import (
    interrupts_while_stepping,
    parse_kvm_trace,
    stepped_vcpu_timeline,
)
from guestdbg.scenarios.session import ScenarioResult, Session, finish

HOST_EVENTS = ("kvm:kvm_inj_virq", "kvm:kvm_exit")


def host_blockirq(s: Session) -> bool | None:
    """Whether the KVM running this guest has KVM_GUESTDBG_BLOCKIRQ (None under TCG)."""
    return s.guest.placement.kvm_blockirq(s.guest.spec)


def step_injection_run(s: Session, steps: int = 200, sstep: int | None = None) -> ScenarioResult:
    """Stop in guestdbg_work (interrupts enabled) with a hardware breakpoint,
    then single-step ``steps`` instructions while the host's tracefs records
    KVM's injections and exits; read jiffies before and after."""
    s.ensure_module()
    work = s.kallsyms("guestdbg_work")
    dbg = s.debugger
    dbg.attach(s.guest)
    s.set_sstep(sstep)
    tracer = s.guest.placement.kvm_tracer()
    result = ScenarioResult(
        "step_injection_run",
        f"stopped in guestdbg_work ({work:#x}) and single-stepped {steps} instructions, "
        + (
            "tracing the host KVM's kvm_inj_virq/kvm_exit"
            if tracer is not None
            else "with no view of the host's KVM"
        )
        + " and reading the guest's timer before and after"
        + (f", QEMU single-step flags {sstep:#x}" if sstep is not None else ""),
    )
    result.data["sstep_flags"] = f"{dbg.stub.sstep_flags():#x}"
    result.data["sstep_supported"] = f"{dbg.stub.supported_sstep_flags():#x}"
    result.data["blockirq"] = host_blockirq(s)
    # Hardware: an outer TCG makes the nested guest take software breakpoints itself.
    bp = dbg.break_insert(f"*{work:#x}", hardware=True)
    stop = s.run_to_breakpoint(result, "step_injection_run", "the breakpoint on guestdbg_work")
    dbg.break_delete(bp)
    if stop is None:
        return finish(s, result)
    # QEMU's gdbstub runs the other vCPUs during a step: only the stepped CPU
    # counts. One CPU: jiffies; several: that CPU's local-timer interrupts.
    cpu = (stop.thread or 1) - 1  # QEMU: gdb thread N is vCPU N-1
    cpus = s.guest.ready.cpus if s.guest.ready else 1
    if cpus > 1:
        measure = f"CPU {cpu}'s local-timer interrupt count"
        expr = (
            f"*(unsigned int *)((unsigned long)&irq_stat.apic_timer_irqs + __per_cpu_offset[{cpu}])"
        )
    else:
        measure, expr = "jiffies", "jiffies"
    eflags_before = dbg.registers(("eflags",))["eflags"]
    timer_before = dbg.evaluate_int(expr)
    if tracer is not None:
        tracer.trace_start(HOST_EVENTS)
    try:
        trace = dbg.stepi_trace(steps)
    finally:
        host_text = tracer.trace_stop(HOST_EVENTS) if tracer is not None else None
    timer_after = dbg.evaluate_int(expr)
    eflags_after = dbg.registers(("eflags",))["eflags"]
    kvm = parse_kvm_trace(host_text) if host_text is not None else None
    # Stepping guestdbg_work's loop: IF stays set throughout (checked at both ends).
    if_set = bool(eflags_before & EFLAGS_IF) and bool(eflags_after & EFLAGS_IF)
    result.data.update(
        steps=len(trace),
        stepped_cpu=cpu,
        guest_measure=measure,
        timer_before=timer_before,
        timer_after=timer_after,
        interrupts_enabled=if_set,
        host_injections=len(kvm.injected()) if kvm else None,
        host_injections_other_vcpus=(len(kvm.injections) - len(kvm.injected())) if kvm else None,
        host_vectors={f"{v:#x}": n for v, n in (kvm.vectors if kvm else Counter()).items()},
        host_exits=dict(kvm.exit_reasons()) if kvm else None,
    )
    if host_text is not None:
        (s.artifacts / "host-trace.txt").write_text(host_text)
        steps_at, injected_at = stepped_vcpu_timeline(host_text)
        result.data["host_timeline"] = {"steps": steps_at, "injections": injected_at}
    result.findings += interrupts_while_stepping(
        len(trace), timer_before, timer_after, if_set, kvm, str(s.artifacts), measure
    )
    result.data["stalled_steps"] = judges.stalled_steps(trace)
    return finish(s, result, (), [("after the last step", eflags_after)])
