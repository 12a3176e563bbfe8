"""Single-step scenarios: steps through a loop that runs with interrupts on
(optionally with NMIs pending), and steps through early boot from a paused start."""

from __future__ import annotations

import time
from dataclasses import asdict

from guestdbg import judges
from guestdbg.debugger.gdb import Step
from guestdbg.errors import DebuggerError
from guestdbg.judges import Finding
from guestdbg.scenarios.session import NMI_EXPECTED, ScenarioResult, Session, finish


def single_step_run(
    s: Session,
    steps: int = 300,
    sstep: int | None = None,
    nmis: int = 0,
    hardware: bool = False,
) -> ScenarioResult:
    """Stop in guestdbg_work (kthread context, interrupts enabled) and
    single-step ``steps`` instructions; with ``nmis``, inject an NMI before
    each of the first ``nmis`` steps. Judged by where each step lands."""
    s.ensure_module(hot_cpu=0 if nmis else -1)
    work = s.kallsyms("guestdbg_work")
    dbg = s.debugger
    dbg.attach(s.guest)
    s.set_sstep(sstep)
    result = ScenarioResult(
        "single_step_run",
        f"stopped in guestdbg_work ({work:#x}) and single-stepped {steps} instructions"
        + (f", injecting an NMI before each of the first {nmis}" if nmis else "")
        + (f", QEMU single-step flags {sstep:#x}" if sstep is not None else ""),
    )
    bp = dbg.break_insert(f"*{work:#x}", hardware=hardware or s.hardware_breakpoints)
    stop = s.run_to_breakpoint(result, "single_step_run", "the breakpoint on guestdbg_work")
    dbg.break_delete(bp)
    if stop is None:
        return finish(s, result)
    trace: list[Step] = []
    for _ in range(nmis):
        s.guest.inject_nmi()
        trace += dbg.stepi_trace(1)
    if steps > nmis:
        trace += dbg.stepi_trace(steps - nmis)
    eflags = dbg.registers(("eflags",))["eflags"]
    result.data["steps"] = [asdict(st) for st in trace]
    result.data["stalled_steps"] = judges.stalled_steps(trace)
    result.findings += judges.step_landing(trace)
    return finish(s, result, NMI_EXPECTED if nmis else (), [("after the last step", eflags)])


def early_boot_step_run(s: Session, steps: int = 1500) -> ScenarioResult:
    """From a guest started paused: a hardware breakpoint on start_kernel
    (software ones would be overwritten by the decompressor), then ``steps``
    single-steps through early boot, where ftrace's ``call __fentry__`` is not
    patched out yet. Judged by where each step lands; the guest must then boot."""
    dbg = s.debugger
    dbg.attach(s.guest)
    result = ScenarioResult(
        "early_boot_step_run",
        f"started the guest paused, stopped at start_kernel with a hardware breakpoint and "
        f"single-stepped {steps} instructions of early boot",
    )
    bp = dbg.break_insert("start_kernel", hardware=True)
    stop = s.run_to_breakpoint(result, "early_boot", "the hardware breakpoint on start_kernel")
    dbg.break_delete(bp)
    if stop is None:
        return finish(s, result)
    if stop.function != "start_kernel":
        result.findings.append(
            Finding(
                "early_boot",
                "start-kernel-missed",
                f"the hardware breakpoint on start_kernel stopped in {stop.function or '?'} "
                f"({stop.reason})",
                {"stop": stop.record},
            )
        )
        return finish(s, result)
    trace = dbg.stepi_trace(steps)
    result.data["steps"] = [asdict(st) for st in trace]
    result.data["fentry_calls"] = sum(1 for st in trace if "__fentry__" in st.insn)
    result.data["stalled_steps"] = judges.stalled_steps(trace)
    result.findings += judges.step_landing(trace)
    if not s.hold:
        dbg.detach()
        s.guest.wait_ready()
    return finish(s, result)


def nmi_step_interrupted(s: Session, rounds: int = 48, sstep: int | None = None) -> ScenarioResult:
    """The seed's TF leak, looked for through KVM: stop in guestdbg_work, then
    ``rounds`` times inject an NMI, start a single step and interrupt it at
    once, then continue. KVM (without BLOCKIRQ) injects the NMI on the entry
    that starts the step, with the debugger's TF pushed on the NMI frame; if
    the interrupt stops the vCPU inside the handler and the debugger then
    continues (no more stepping), the handler's IRET restores TF in the guest
    and the guest's exc_debug prints its WARN. Judged by the console.

    Whether a round leaks depends on where the interrupt lands, so the rounds
    stop at the first WARN: a host that leaks shows it within the budget, a
    host that does not runs all ``rounds``."""
    s.ensure_module(hot_cpu=0)
    work = s.kallsyms("guestdbg_work")
    dbg = s.debugger
    dbg.attach(s.guest)
    s.set_sstep(sstep)
    result = ScenarioResult(
        "nmi_step_interrupted",
        f"stopped in guestdbg_work ({work:#x}); up to {rounds} times (until the guest "
        "WARNs): injected an NMI, started a single step, interrupted it at once and continued"
        + (f" (QEMU single-step flags {sstep:#x})" if sstep is not None else ""),
    )
    bp = dbg.break_insert(f"*{work:#x}", hardware=s.hardware_breakpoints)
    stop = s.run_to_breakpoint(result, "nmi_step_interrupted", "the breakpoint on guestdbg_work")
    dbg.break_delete(bp)
    if stop is None:
        return finish(s, result)
    stops = []
    for i in range(rounds):
        s.guest.inject_nmi()
        dbg.command("-exec-step-instruction")
        # Under an outer TCG a step takes 5-25 ms and the NMI handler's
        # "Uhhuh" lines to the serial port far longer: interrupt at several
        # points of that window.
        time.sleep(0.005 * (i % 8))
        try:
            first = dbg.interrupt()
        except DebuggerError:  # the step ended before the interrupt: its stop is queued
            first = dbg.wait_stop()
        stops.append(f"{first.reason or '?'} in {first.function or hex(first.pc or 0)}")
        dbg.resume()
        time.sleep(0.5)  # the handler, if any, returns meanwhile
        dbg.interrupt()
        if any(r.tf_leak for r in s.reports(NMI_EXPECTED)):
            break
    result.data["stops_after_the_interrupted_step"] = stops
    result.data["rounds"] = len(stops)
    return finish(s, result, NMI_EXPECTED)
