"""The lx-symbols scenario: the kernel's own gdb script, then modules loaded
and reloaded after it ran."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from guestdbg import judges
from guestdbg.debugger.lxsymbols import LxSymbols
from guestdbg.images.elf import elf_code_and_data_symbols, elf_sections
from guestdbg.judges import Finding, ModuleSymbol
from guestdbg.recipes import TEST_MODULE
from guestdbg.scenarios.session import (
    COUNTER,
    MODULE_PATH,
    ScenarioResult,
    Session,
    finish,
    module_sections,
)


def module_map_findings(
    lx: LxSymbols,
    ko: Path,
    loaded: dict[str, int],
    record: dict[str, Any] | None = None,
    module: str = TEST_MODULE,
) -> list[Finding]:
    """Judge gdb's map of ``module`` (the guest stopped, its symbols loaded)
    against where the kernel loaded its sections (``loaded``, from sysfs).
    ``record``: filled with the judge's inputs (replayed by the unit tests)."""
    objfile = lx.module_objfile(module)
    if objfile is None or not loaded:
        return []
    elf = elf_code_and_data_symbols(ko)
    names = sorted(n for n, s in elf.items() if s.section.name in loaded)
    addresses = lx.symbol_addresses(objfile, names)
    symbols = [ModuleSymbol(n, elf[n].section.name, elf[n].value, addresses.get(n)) for n in names]
    nonzero = {s.name: s.addr for s in elf_sections(ko) if s.addr}
    gdb_sections = lx.section_map(objfile)
    if record is not None:
        record.update(
            module=module,
            symbols=[asdict(sym) for sym in symbols],
            loaded_sections=loaded,
            gdb_sections=gdb_sections,
            nonzero_sections=nonzero,
        )
    return judges.module_symbols_overlap(module, symbols, loaded, gdb_sections, nonzero)


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

    ko = s.image.module_dir / f"{TEST_MODULE}.ko"

    def module_breakpoint_hits(when: str, loaded: dict[str, int]) -> None:
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
        overlap = module_map_findings(
            lx, ko, loaded, result.data.setdefault("module_map", {}).setdefault(when, {})
        )
        if overlap and "module-symbols-overlap" not in result.kinds():
            result.findings += overlap
        bp = dbg.break_insert("guestdbg_tick", hardware=hardware)
        stop = s.run_to_breakpoint(result, "lxsymbols", f"after {when}, the module breakpoint")
        dbg.break_delete(bp)
        if stop is None or stop.function == "guestdbg_tick":
            return
        tick = elf_code_and_data_symbols(ko).get("guestdbg_tick")
        real = loaded[".text"] + tick.value if tick and ".text" in loaded else None
        if stop.pc is not None and stop.pc == real:
            # The right address under another name: the map's defect, not the
            # breakpoint's (module-symbols-overlap says why, when it does).
            result.data.setdefault("misnamed_stops", []).append(
                f"after {when}: {stop.pc:#x} named {stop.function}"
            )
            if not overlap:
                result.findings.append(
                    Finding(
                        "lxsymbols",
                        "module-stop-misnamed",
                        f"after {when}, the breakpoint on guestdbg_tick stopped at its address "
                        f"{stop.pc:#x}, but gdb named the stop {stop.function}",
                        {"stop": stop.record},
                    )
                )
            return
        result.findings.append(
            Finding(
                "lxsymbols",
                "module-breakpoint-missed",
                f"after {when}, a breakpoint on guestdbg_tick stopped in "
                f"{stop.function or hex(stop.pc or 0)} ({stop.reason}), not at its address "
                + (f"{real:#x}" if real is not None else "(unknown)"),
                {"stop": stop.record},
            )
        )

    dbg.resume()
    s.shell(f"insmod {MODULE_PATH}", result)
    loaded = module_sections(s.guest)
    result.data["module_sections"] = {k: hex(v) for k, v in loaded.items()}
    dbg.interrupt()
    module_breakpoint_hits("the first insmod", loaded)
    if rounds:
        dbg.resume()
        for _ in range(rounds):
            s.shell(f"rmmod {TEST_MODULE}", result)
            s.shell(f"insmod {MODULE_PATH}", result)
        loaded = module_sections(s.guest)
        dbg.interrupt()
        module_breakpoint_hits(f"{rounds} rmmod/insmod round(s)", loaded)
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


def module_map(s: Session, planted: bool = False) -> ScenarioResult:
    """lx-symbols with the test module loaded, then the module's symbols
    loaded again by hand: with every section the kernel loaded placed where
    sysfs says (the fix lx-symbols lacks: the known-good run), or ``planted``
    with ``.exit.text`` placed so that its first function lands on
    guestdbg_tick (the positive control: two functions at one address, on
    any kernel). Judged by gdb's map of the module."""
    s.ensure_module()
    loaded = module_sections(s.guest)
    dbg = s.debugger
    ko = s.image.module_dir / f"{TEST_MODULE}.ko"
    result = ScenarioResult(
        "module_map",
        f"ran lx-symbols with {TEST_MODULE} loaded, then loaded its symbols again with "
        + (
            ".exit.text placed so that its first function lands on guestdbg_tick"
            if planted
            else "every section placed where /sys/module/*/sections says"
        ),
    )
    result.data["module_sections"] = {k: hex(v) for k, v in loaded.items()}
    dbg.attach(s.guest)
    lx = LxSymbols(dbg, s.image.tree.gdb_script, [s.image.module_dir])
    lx.run()
    objfile = lx.module_objfile(TEST_MODULE)
    if objfile is None or ".text" not in loaded:
        result.findings.append(
            Finding(
                "lxsymbols",
                "module-symbols-missing",
                f"lx-symbols loaded no symbols for {TEST_MODULE}, or sysfs has no .text for it",
                {"symbol files": "\n".join(lx.symbol_files()), "sections": str(loaded)},
            )
        )
        return finish(s, result)
    dbg.console(f"remove-symbol-file {objfile}")
    text = loaded[".text"]
    if planted:
        elf = elf_code_and_data_symbols(ko)
        tick, exit_fn = elf.get("guestdbg_tick"), elf.get("guestdbg_test_exit")
        assert tick is not None and exit_fn is not None, "the test module lost its functions"
        placed = {".exit.text": text + tick.value - exit_fn.value}
    else:
        placed = {name: addr for name, addr in loaded.items() if name != ".text"}
    args = "".join(f" -s {name} {addr:#x}" for name, addr in placed.items())
    result.data["add_symbol_file"] = f"add-symbol-file {ko} {text:#x}{args}"
    dbg.console(f"add-symbol-file {objfile} {text:#x}{args}")
    result.findings += module_map_findings(lx, ko, loaded, result.data.setdefault("module_map", {}))
    return finish(s, result)
