"""Single-step scenarios: steps through a loop that runs with interrupts on
(optionally with NMIs pending), and steps through early boot from a paused start."""

from __future__ import annotations

from dataclasses import asdict

from guestdbg import judges
from guestdbg.debugger.gdb import Step
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
