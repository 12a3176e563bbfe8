"""What every scenario shares: the :class:`Session` it drives, the
:class:`ScenarioResult` it returns, and :func:`finish`, which undoes what the
scenario changed and runs the judges every scenario shares.

A scenario starts with a booted guest and a Debugger that has the vmlinux
loaded but is not attached (so it can prepare the guest from its shell
first). What it changes in the guest or in QEMU (breakpoints, single-step
flags, planted packets) it registers on ``session.undo``, a
:class:`contextlib.ExitStack`; :func:`finish` closes that stack and detaches,
leaving the guest running — unless the session ``hold`` s the state
(``guestdbg repro``): then the guest stays stopped exactly as the scenario
left it, for a developer's gdb.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guestdbg import judges, kernlog
from guestdbg.debugger.gdb import Debugger
from guestdbg.debugger.ledger import parse_remote_log_file
from guestdbg.debugger.mi import StopEvent
from guestdbg.errors import DeadlineError, GuestdbgError, GuestError
from guestdbg.images.elf import elf_symbol
from guestdbg.images.guest_image import GuestImage
from guestdbg.judges import Finding
from guestdbg.judges.console import is_debugger_breakpoint_taken
from guestdbg.recipes import TEST_MODULE
from guestdbg.runtime.qemu import Guest

MODULE_PATH = f"/lib/modules/{TEST_MODULE}.ko"
PARAMETERS = f"/sys/module/{TEST_MODULE}/parameters"
COUNTER = f"{PARAMETERS}/counter"
TRIGGER = f"{PARAMETERS}/trigger"


def module_load_command(hot_cpu: int = -1) -> str:
    return f"insmod {MODULE_PATH} hot_cpu={hot_cpu}"


def module_symbol_address(guest: Guest, image: GuestImage, name: str) -> int:
    """The running guest's address of a test-module symbol: the load address
    of its section (``/sys/module/*/sections``, what lx-symbols reads) plus
    its offset in the .ko the image put in the guest. /proc/kallsyms gives
    the same number but costs about 0.3 s under TCG (the kernel formats
    every symbol), so it is only the fallback."""
    symbol = elf_symbol(image.module_dir / f"{TEST_MODULE}.ko", name)
    # A guest in a nested host keeps the slow way: under an outer TCG a vCPU of the nested
    # guest that goes idle right after the module loads is sometimes never
    # woken again (an RCU stall, the NMI unanswered: 1 in 51 load-and-read
    # cycles with the sysfs read, 0 in 150 with the grep, which keeps both
    # vCPUs busy for half a second; measured 2026-11-25).
    if symbol is not None and symbol.section.name and guest.placement.kind == "local":
        out = guest.run(f"cat /sys/module/{TEST_MODULE}/sections/{symbol.section.name}")
        base = out.output.strip()
        if out.ok and re.fullmatch(r"(0x)?[0-9a-f]+", base) and int(base, 16):
            return int(base, 16) + symbol.value
    out = guest.run(f"grep -w {name} /proc/kallsyms")
    words = out.output.split()
    if not out.ok or not words:
        raise GuestError(f"{name} is not in the guest's /proc/kallsyms (is {TEST_MODULE} loaded?)")
    return int(words[0], 16)


def module_sections(guest: Guest, module: str = TEST_MODULE) -> dict[str, int]:
    """Where the kernel loaded each section of ``module``
    (``/sys/module/M/sections``, what lx-symbols reads through ``sect_attrs``);
    {} when the guest shell cannot say."""
    read = f'(cd /sys/module/{module}/sections && for f in .[!.]* *; do echo "$f $(cat $f)"; done)'
    if guest.placement.kind == "nested":
        # Keep both vCPUs busy across the read (see module_symbol_address).
        read = f"grep -w guestdbg_tick /proc/kallsyms >/dev/null; {read}"
    out = guest.run(read)
    found = re.findall(r"^(\S+) (?:0x)?([0-9a-f]+)\r?$", out.output, re.M) if out.ok else []
    return {name: int(addr, 16) for name, addr in found if int(addr, 16)}


# What a guest restored from a snapshot has already run (guestdbg.runtime.start):
# the test module loaded as ensure_module() loads it by default.
SNAPSHOT_PREPARATION = (module_load_command(),)
# What an NMI nobody claims prints (arch/x86/kernel/nmi.c): expected after inject-nmi.
NMI_EXPECTED = (kernlog.NMI_AFTER_INJECTION,)


@dataclass
class Session:
    """One booted guest and one gdb for one scenario.

    hold: leave the guest stopped in the state the scenario ends in (repro):
    nothing on ``undo`` runs and the debugger stays attached."""

    image: GuestImage
    guest: Guest
    debugger: Debugger
    artifacts: Path
    hold: bool = False
    # Scenarios' own stops use hardware breakpoints (a nested guest under an
    # outer TCG takes software ones itself); bp_kind-driven ones are the test's.
    hardware_breakpoints: bool = False
    console_start: int = 0  # offset of this scenario's first console byte
    undo: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

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
        # One question, one answer: the module's state, not an error to interpret.
        state = self.guest.run(
            f"if [ -d /sys/module/{TEST_MODULE} ]; then cat {PARAMETERS}/hot_cpu; "
            "else echo absent; fi"
        )
        bound = state.output.strip()
        if not state.ok:
            raise GuestError(
                f"cannot read the state of {TEST_MODULE} in the guest: {bound}",
                evidence={"console tail": self.guest.console.tail(20)},
            )
        if bound == str(hot_cpu):
            return
        if bound != "absent":
            self.guest.run(f"rmmod {TEST_MODULE}")
        result = self.guest.run(module_load_command(hot_cpu))
        if not result.ok:
            raise GuestError(
                f"insmod {MODULE_PATH} failed in the guest: {result.output.strip()}",
                evidence={"console tail": self.guest.console.tail(20)},
            )

    def kallsyms(self, name: str) -> int:
        return module_symbol_address(self.guest, self.image, name)

    def set_sstep(self, sstep: int | None) -> None:
        """Set QEMU's single-step flags for this scenario (None: leave them);
        the flags QEMU had are restored when the scenario finishes."""
        if sstep is None:
            return
        stub = self.debugger.stub
        previous = stub.sstep_flags()
        stub.set_sstep_flags(sstep)
        self.undo.callback(stub.set_sstep_flags, previous)

    def run_to_breakpoint(
        self, result: ScenarioResult, detector: str, what: str
    ) -> StopEvent | None:
        """Resume and return the next stop. A guest that keeps running (alive
        and answering: a dead or frozen QEMU raises instead) without stopping
        within the debugger's stop timeout is a debug defect, a
        ``breakpoint-not-hit`` finding; the guest is then stopped again."""
        dbg = self.debugger
        try:
            return dbg.cont()
        except DeadlineError as err:
            result.findings.append(
                Finding(
                    detector,
                    "breakpoint-not-hit",
                    f"{what} was not hit within {dbg.timeout:g}s while the guest kept running",
                    {"gdb": err.message},
                )
            )
            with contextlib.suppress(GuestdbgError):
                dbg.interrupt(timeout=10)
            return None

    def shell(self, command: str, result: ScenarioResult) -> None:
        """Run a step of the scenario in the guest shell; a failure is a finding."""
        out = self.guest.run(command, timeout=60)
        if not out.ok:
            result.findings.append(
                Finding(
                    "guest_health",
                    "shell-command-failed",
                    f"'{command}' failed with status {out.status}",
                    {"output": out.output},
                )
            )


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


def finish(
    s: Session,
    result: ScenarioResult,
    expected: Sequence[kernlog.Expected] = (),
    eflags_at_stops: Sequence[tuple[str, int]] = (),
) -> ScenarioResult:
    """Undo what the scenario changed and detach (unless the session holds the
    state), then run the judges every scenario shares: TF leak, ledger, health."""
    dbg = s.debugger
    # gdb sees the stub close as soon as QEMU goes; QEMU's own exit may lag.
    # A nested guest that reset or panicked is kept paused (runtime.nested):
    # gone all the same.
    gone = dbg.target_exited or not s.guest.running or s.guest.stopped_by_itself()
    if not s.hold:
        if gone:
            # The guest died under the scenario (its console says why): there
            # is nothing to undo or detach from, and the judges still run.
            s.undo.pop_all()
        else:
            s.undo.close()
            if dbg.guest is not None:
                dbg.detach()
            # A shell round-trip lets the guest print what it still owes this
            # scenario (NMI messages are printed from deferred work), so it lands
            # in this scenario's console slice and not the next one's.
            try:
                s.guest.run("true")
            except GuestError:
                if s.guest.running and not s.guest.stopped_by_itself():
                    raise
                # It died on resume (the console says why): the judges read that.
    dbg.flush_logs()
    reports = s.reports(expected)
    where = str(s.artifacts)
    result.findings += judges.tf_leak(reports, eflags_at_stops)
    result.findings += judges.breakpoint_ledger(parse_remote_log_file(dbg.remote_log), where)
    result.findings += judges.debugger_breakpoint_taken(reports, where)
    # The TF-leak WARN is the tf_leak judge's, an int3 Oops the breakpoint
    # judge's; health judges the rest.
    result.findings += judges.guest_health(
        [r for r in reports if not r.tf_leak and not is_debugger_breakpoint_taken(r)], where=where
    )
    result.data["console_reports"] = [
        {"title": r.title, "expected": r.expected, "truncated": r.truncated} for r in reports
    ]
    return result
