"""Reusable guest-debug flows: each drives a guest and a debugger, records
what happened, runs the detectors and returns a :class:`ScenarioResult`.

A scenario starts with a booted guest and a Debugger that has the vmlinux
loaded but is not attached (so the scenario can prepare the guest from its
shell first) and leaves the guest running and the debugger detached.

The same scenario with different knobs is both the known-good run and the
positive control: e.g. :func:`breakpoint_resume_loop` with ``inject_nmi`` and
QEMU's single-step flags at the default 0x7 must progress, and with 0x1
(interrupts not masked while stepping) it must be found stuck.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from framework import detectors, kernlog
from framework.detectors import BreakpointHit, Finding
from framework.errors import GuestError
from framework.gdb import Debugger, Step
from framework.images import TEST_MODULE, GuestImage
from framework.ledger import parse_remote_log_file
from framework.lxsymbols import LxSymbols
from framework.qemu import Guest

MODULE_PATH = f"/lib/modules/{TEST_MODULE}.ko"
COUNTER = f"/sys/module/{TEST_MODULE}/parameters/counter"
TRIGGER = f"/sys/module/{TEST_MODULE}/parameters/trigger"
# What an NMI nobody claims prints (arch/x86/kernel/nmi.c): expected after inject-nmi.
NMI_EXPECTED = (kernlog.NMI_AFTER_INJECTION,)


@dataclass
class Session:
    """One booted guest and one gdb for one scenario."""

    image: GuestImage
    guest: Guest
    debugger: Debugger
    artifacts: Path
    console_start: int = 0  # offset of this scenario's first console byte

    def __post_init__(self) -> None:
        self.console_start = len(self.guest.console.text())

    def console_text(self) -> str:
        return self.guest.console.text()[self.console_start :]

    def reports(self, expected: Sequence[kernlog.Expected] = ()) -> list[kernlog.KernelReport]:
        """Console reports since the scenario started (expected ones marked)."""
        return kernlog.parse_text(self.console_text(), expected)

    def ensure_module(self, hot_cpu: int = -1) -> None:
        """Insert the test module (from the guest shell; the guest must run).
        ``hot_cpu``: bind its hot loop to that vCPU (QMP inject-nmi reaches CPU 0);
        a module loaded earlier with another binding (a shared guest) is reloaded."""
        params = f"/sys/module/{TEST_MODULE}/parameters"
        loaded = self.guest.run(f"cat {params}/hot_cpu")
        if loaded.ok and loaded.output.strip() == str(hot_cpu):
            return
        if loaded.ok:
            self.guest.run(f"rmmod {TEST_MODULE}")
        result = self.guest.run(f"insmod {MODULE_PATH} hot_cpu={hot_cpu}")
        if not result.ok:
            raise GuestError(
                f"insmod {MODULE_PATH} failed in the guest: {result.output.strip()}",
                evidence={"console tail": self.guest.console.tail(20)},
            )

    def kallsyms(self, name: str) -> int:
        out = self.guest.run(f"grep -w {name} /proc/kallsyms").output.split()
        if not out:
            raise GuestError(
                f"{name} is not in the guest's /proc/kallsyms (is {TEST_MODULE} loaded?)"
            )
        return int(out[0], 16)


@dataclass
class ScenarioResult:
    """What a scenario did, what it recorded and what the detectors found."""

    name: str
    did: str  # one sentence: what the scenario did, for failure reports
    findings: list[Finding] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def kinds(self) -> set[str]:
        return {f.kind for f in self.findings}

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "did": self.did,
            "findings": [f.to_json() for f in self.findings],
            "data": self.data,
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, default=str))


def _set_sstep(dbg: Debugger, sstep: int | None) -> int | None:
    """Set QEMU's single-step flags; return the ones to restore (None: untouched)."""
    if sstep is None:
        return None
    previous = dbg.sstep_flags()
    dbg.set_sstep_flags(sstep)
    return previous


def _finish(
    s: Session,
    result: ScenarioResult,
    expected: Sequence[kernlog.Expected] = (),
    eflags_at_stops: Sequence[tuple[str, int]] = (),
    keep: bool = False,
) -> ScenarioResult:
    """Detach (unless ``keep``: the guest stays stopped where the scenario left
    it), then run the detectors every scenario shares: TF leak, ledger, health."""
    dbg = s.debugger
    if dbg.guest is not None and not keep:
        dbg.detach()
    if not keep and s.guest.running:
        # A shell round-trip lets the guest print what it still owes this
        # scenario (NMI messages are printed from deferred work), so it lands
        # in this scenario's console slice and not the next one's.
        s.guest.run("true")
    dbg.flush_logs()
    reports = s.reports(expected)
    where = str(s.artifacts)
    result.findings += detectors.tf_leak(reports, eflags_at_stops)
    result.findings += detectors.breakpoint_ledger(parse_remote_log_file(dbg.remote_log), where)
    # The TF-leak WARN is the tf_leak detector's; health judges the rest.
    result.findings += detectors.guest_health([r for r in reports if not r.tf_leak], where=where)
    result.data["console_reports"] = [
        {"title": r.title, "expected": r.expected, "truncated": r.truncated} for r in reports
    ]
    return result


def breakpoint_resume_loop(
    s: Session,
    hits: int = 8,
    handler_delay: float = 0.05,
    hardware: bool = False,
    sstep: int | None = None,
    inject_nmi: bool = False,
    stuck_after: int = 4,
    progress_required: float | None = None,
    keep: bool = False,
) -> ScenarioResult:
    """Breakpoint on the test module's hot function; at each stop read the
    registers, spend ``handler_delay`` seconds like a symbol-loading script,
    optionally inject an NMI, and resume.

    Judged by forward progress (at least ``progress_required`` of the resumes,
    default half, reach a new call) and the stuck-breakpoint detector."""
    s.ensure_module(hot_cpu=0 if inject_nmi else -1)
    tick = s.kallsyms("guestdbg_tick")
    dbg = s.debugger
    dbg.attach(s.guest)
    restore = _set_sstep(dbg, sstep)
    kind = "hardware" if hardware else "software"
    result = ScenarioResult(
        "breakpoint_resume_loop",
        f"set a {kind} breakpoint on guestdbg_tick ({tick:#x}) and resumed {hits} times "
        f"with a {handler_delay:g}s handler"
        + (", injecting an NMI at every stop" if inject_nmi else "")
        + (f", QEMU single-step flags {sstep:#x}" if sstep is not None else ""),
    )
    bp = dbg.break_insert(f"*{tick:#x}", hardware=hardware)
    recorded: list[BreakpointHit] = []
    eflags_at_stops = []
    for i in range(hits):
        stop = dbg.cont(timeout=60)
        if stop.reason != "breakpoint-hit" or stop.pc != tick:
            result.findings.append(
                Finding(
                    "breakpoint_resume_loop",
                    "unexpected-stop",
                    f"resume {i} stopped for {stop.reason or 'no reason'} at "
                    f"{stop.pc or 0:#x} instead of the breakpoint",
                    {"stop": stop.record},
                )
            )
            break
        regs = dbg.registers(("rip", "rsp", "eflags", "rdi"))
        recorded.append(
            BreakpointHit(
                i, regs["rip"], regs["rsp"], regs["eflags"], regs["rdi"], stop.thread, inject_nmi
            )
        )
        eflags_at_stops.append((f"breakpoint hit {i}", regs["eflags"]))
        time.sleep(handler_delay)  # the slow handler is the scenario, not a wait
        if inject_nmi and i < hits - 1:  # pending for the next resume from the breakpoint
            s.guest.inject_nmi()
    if not keep:
        dbg.break_delete(bp)
        if restore is not None:
            dbg.set_sstep_flags(restore)
    result.data["hits"] = [asdict(h) for h in recorded]
    # Under TCG with the default flags a step off the breakpoint occasionally
    # does not advance and the same call is hit again (about 1 resume in 80
    # here): the guest still moves on. Re-hits are recorded as data; progress
    # fails when fewer than half the resumes reach a new call.
    required = 0.5 if progress_required is None else progress_required
    result.data["re_hits"] = sum(
        1 for a, b in itertools.pairwise(recorded) if b.counter <= a.counter
    )
    result.data["resumes"] = max(0, len(recorded) - 1)
    result.findings += detectors.forward_progress(recorded, required)
    result.findings += detectors.stuck_breakpoint(recorded, stuck_after)
    return _finish(s, result, NMI_EXPECTED if inject_nmi else (), eflags_at_stops, keep)


def single_step_run(
    s: Session,
    steps: int = 300,
    sstep: int | None = None,
    nmis: int = 0,
    hardware: bool = False,
    keep: bool = False,
) -> ScenarioResult:
    """Stop in guestdbg_work (kthread context, interrupts enabled) and
    single-step ``steps`` instructions; with ``nmis``, inject an NMI before
    each of the first ``nmis`` steps. Judged by where each step lands."""
    s.ensure_module(hot_cpu=0 if nmis else -1)
    work = s.kallsyms("guestdbg_work")
    dbg = s.debugger
    dbg.attach(s.guest)
    restore = _set_sstep(dbg, sstep)
    result = ScenarioResult(
        "single_step_run",
        f"stopped in guestdbg_work ({work:#x}) and single-stepped {steps} instructions"
        + (f", injecting an NMI before each of the first {nmis}" if nmis else "")
        + (f", QEMU single-step flags {sstep:#x}" if sstep is not None else ""),
    )
    bp = dbg.break_insert(f"*{work:#x}", hardware=hardware)
    dbg.cont(timeout=60)
    dbg.break_delete(bp)
    trace: list[Step] = []
    for _ in range(nmis):
        s.guest.inject_nmi()
        trace += dbg.stepi_trace(1)
    if steps > nmis:
        trace += dbg.stepi_trace(steps - nmis)
    eflags = dbg.registers(("eflags",))["eflags"]
    if restore is not None and not keep:
        dbg.set_sstep_flags(restore)
    result.data["steps"] = [asdict(st) for st in trace]
    result.data["stalled_steps"] = detectors.stalled_steps(trace)
    result.findings += detectors.step_landing(trace)
    return _finish(s, result, NMI_EXPECTED if nmis else (), [("after the last step", eflags)], keep)


def early_boot_step_run(s: Session, steps: int = 1500, keep: bool = False) -> ScenarioResult:
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
    stop = dbg.cont(timeout=120)
    dbg.break_delete(bp)
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
        return _finish(s, result, keep=keep)
    trace = dbg.stepi_trace(steps)
    result.data["steps"] = [asdict(st) for st in trace]
    result.data["fentry_calls"] = sum(1 for st in trace if "__fentry__" in st.insn)
    result.data["stalled_steps"] = detectors.stalled_steps(trace)
    result.findings += detectors.step_landing(trace)
    if not keep:
        dbg.detach()
        s.guest.wait_ready()
    return _finish(s, result, keep=keep)


def lxsymbols_reload(s: Session, rounds: int = 2, keep: bool = False) -> ScenarioResult:
    """lx-symbols, then insmod (symbols appear, a breakpoint in the module
    hits), then rmmod + insmod ``rounds`` times (the reload path), and the
    breakpoint must hit again. Judged by the ledger and the guest's health."""
    dbg = s.debugger
    result = ScenarioResult(
        "lxsymbols_reload",
        f"ran lx-symbols, inserted {TEST_MODULE}, hit a breakpoint in it, then removed and "
        f"re-inserted it {rounds} time(s) and hit the breakpoint again",
    )
    if s.guest.run(f"test -d /sys/module/{TEST_MODULE}").status == 0:
        s.guest.run(f"rmmod {TEST_MODULE}")
    dbg.attach(s.guest)
    lx = LxSymbols(dbg, s.image.tree.gdb_script, [s.image.module_dir])
    first = lx.run()
    result.data["lx_symbols_seconds"] = first.seconds

    def module_breakpoint_hits(when: str) -> None:
        if not lx.has_module(TEST_MODULE):
            result.findings.append(
                Finding(
                    "lxsymbols",
                    "module-symbols-missing",
                    f"after {when}, gdb has no symbols for {TEST_MODULE}",
                    {"symbol files": "\n".join(lx.symbol_files())},
                )
            )
            return
        bp = dbg.break_insert("guestdbg_tick")
        stop = dbg.cont(timeout=60)
        dbg.break_delete(bp)
        if stop.function != "guestdbg_tick":
            result.findings.append(
                Finding(
                    "lxsymbols",
                    "module-breakpoint-missed",
                    f"after {when}, a breakpoint on guestdbg_tick stopped in "
                    f"{stop.function or hex(stop.pc or 0)} ({stop.reason})",
                    {"stop": stop.record},
                )
            )

    dbg.resume()
    _shell(s, f"insmod {MODULE_PATH}", result)
    dbg.interrupt()
    module_breakpoint_hits("the first insmod")
    dbg.resume()
    for _ in range(rounds):
        _shell(s, f"rmmod {TEST_MODULE}", result)
        _shell(s, f"insmod {MODULE_PATH}", result)
    dbg.interrupt()
    module_breakpoint_hits(f"{rounds} rmmod/insmod round(s)")
    result = _finish(s, result, keep=keep)
    alive = s.guest.run(f"cat {COUNTER}") if not keep else None
    if alive is not None and not alive.ok:
        result.findings.append(
            Finding(
                "guest_health",
                "guest-unresponsive",
                "the guest shell failed after the reload rounds",
                {"output": alive.output},
            )
        )
    return result


def _shell(s: Session, command: str, result: ScenarioResult) -> None:
    out = s.guest.run(command, timeout=60)
    if not out.ok:
        result.findings.append(
            Finding(
                "guest_health",
                "shell-command-failed",
                f"'{command}' failed with status {out.status}",
                {"output": out.output},
            )
        )


def tf_trigger(s: Session, keep: bool = False) -> ScenarioResult:
    """Positive control for the TF-leak detector: the test module sets
    EFLAGS.TF in kernel mode, exactly what a leaked host single-step looks like."""
    s.ensure_module()
    result = ScenarioResult("tf_trigger", "set EFLAGS.TF in kernel mode with the test module")
    s.guest.run(f"echo tf > {TRIGGER}")
    return _finish(s, result, keep=keep)


def tf_seen_at_stop(s: Session, keep: bool = False) -> ScenarioResult:
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
    dbg.cont(timeout=60)
    dbg.break_delete(bp)
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
    return _finish(s, result, eflags_at_stops=eflags_at_stops, keep=keep)


def planted_breakpoint(s: Session, keep: bool = False) -> ScenarioResult:
    """Positive control for the ledger: plant a software breakpoint at the
    stopped vCPU's PC behind gdb's back (a raw Z0 packet), then step: the
    ledger must show a step over a planted breakpoint."""
    s.ensure_module()
    tick = s.kallsyms("guestdbg_tick")
    dbg = s.debugger
    dbg.attach(s.guest)
    bp = dbg.break_insert(f"*{tick:#x}")
    dbg.cont(timeout=60)
    dbg.break_delete(bp)
    result = ScenarioResult(
        "planted_breakpoint",
        f"stopped at guestdbg_tick ({tick:#x}), planted a software breakpoint there with a "
        "raw Z0 packet and single-stepped",
    )
    dbg.maintenance_packet(f"Z0,{tick:x},1")
    dbg.stepi()
    if not keep:
        dbg.maintenance_packet(f"z0,{tick:x},1")
    return _finish(s, result, keep=keep)


SCENARIOS: dict[str, tuple[Callable[..., ScenarioResult], str]] = {
    "bp-loop": (breakpoint_resume_loop, "breakpoint resume loop on the module's hot function"),
    "step": (single_step_run, "single-step a loop that runs with interrupts enabled"),
    "early-boot": (early_boot_step_run, "single-step early boot from start_kernel (paused start)"),
    "lx-symbols": (lxsymbols_reload, "lx-symbols, insmod, rmmod+insmod reload, breakpoints"),
    "tf": (tf_trigger, "control: set EFLAGS.TF in kernel mode (TF-leak WARN)"),
    "tf-stop": (tf_seen_at_stop, "control: step through a popf that sets TF, read EFLAGS"),
    "planted": (planted_breakpoint, "control: step over a breakpoint planted behind gdb"),
}
