"""The lx-symbols scenario: the kernel's own gdb script, then modules loaded
and reloaded after it ran."""

from __future__ import annotations

from guestdbg.debugger.lxsymbols import LxSymbols
from guestdbg.judges import Finding
from guestdbg.recipes import TEST_MODULE
from guestdbg.scenarios.session import COUNTER, MODULE_PATH, ScenarioResult, Session, finish


def lxsymbols_reload(s: Session, rounds: int = 2, hardware: bool = False) -> ScenarioResult:
    """lx-symbols, then insmod (symbols appear, a breakpoint in the module
    hits), then rmmod + insmod ``rounds`` times (the reload path), and the
    breakpoint must hit again. Judged by the ledger and the guest's health.

    hardware: every breakpoint in the kernel's text is a hardware one, also
    lx-symbols' own (for guests that cannot take software breakpoints)."""
    dbg = s.debugger
    hardware = hardware or s.hardware_breakpoints
    result = ScenarioResult(
        "lxsymbols_reload",
        f"ran lx-symbols, inserted {TEST_MODULE}, hit a breakpoint in it, then removed and "
        f"re-inserted it {rounds} time(s) and hit the breakpoint again"
        + (" (all breakpoints hardware ones)" if hardware else ""),
    )
    if hardware:
        dbg.hardware_breakpoints_only()
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
        bp = dbg.break_insert("guestdbg_tick", hardware=hardware)
        stop = s.run_to_breakpoint(result, "lxsymbols", f"after {when}, the module breakpoint")
        dbg.break_delete(bp)
        if stop is None:
            return
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
    s.shell(f"insmod {MODULE_PATH}", result)
    dbg.interrupt()
    module_breakpoint_hits("the first insmod")
    if rounds:
        dbg.resume()
        for _ in range(rounds):
            s.shell(f"rmmod {TEST_MODULE}", result)
            s.shell(f"insmod {MODULE_PATH}", result)
        dbg.interrupt()
        module_breakpoint_hits(f"{rounds} rmmod/insmod round(s)")
    result = finish(s, result)
    gone = not s.guest.running or s.guest.stopped_by_itself()
    alive = None if s.hold or gone else s.guest.run(f"cat {COUNTER}")
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
