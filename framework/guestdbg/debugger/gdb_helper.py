"""Sourced into gdb by framework.gdb: loops that would cost one MI round-trip
per iteration run here, inside gdb's own Python, and print one JSON line."""

from __future__ import annotations

import itertools
import json

import gdb


def _symbol(pc: int) -> str | None:
    out = gdb.execute(f"info symbol {pc:#x}", to_string=True).strip()
    if " in section " not in out:
        return None
    name, _, rest = out.partition(" in section ")[0].partition(" + ")
    return f"{name}+{int(rest or 0):#x}"


def _remote_lines(output: str) -> str:
    return "".join(line for line in output.splitlines(keepends=True) if "[remote] " in line)


def _log_packets(text: str, spill: str) -> None:
    if text:
        with open(spill, "w") as f:
            f.write(text)
        gdb.write(f"[remote] GUESTDBG-SPLICE {spill}\n", gdb.STDLOG)


def _pc() -> int:
    # $pc, not selected_frame().pc(): a frame object costs an unwind of its
    # own, about 15% of an early-boot step.
    return int(gdb.parse_and_eval("$pc"))


def guestdbg_stepi(n: int, spill: str) -> None:
    """Step ``n`` instructions on the selected vCPU, recording each one.

    The loop only steps and reads the PC (as fast as gdb's own loop); the
    instructions are disassembled afterwards, once per distinct address.
    ``to_string`` also captures what ``set debug remote`` logs: those packet
    lines go to the file ``spill``, and one log record (``SPLICE`` in
    guestdbg.debugger.mi) tells the reader to put them into remote.log at
    that point, so the breakpoint ledger sees every step. (Printed back as
    log records instead, they would cost about 1.5 ms a step.)"""
    pcs = [_pc()]
    sp = int(gdb.selected_frame().read_register("rsp"))
    packets: list[str] = []
    try:
        for _ in range(n):
            packets.append(_remote_lines(gdb.execute("stepi", to_string=True)))
            pcs.append(_pc())
    finally:
        _log_packets("".join(packets), spill)
    arch = gdb.selected_frame().architecture()
    insns = {}
    for pc in set(pcs[:-1]):
        insn = arch.disassemble(pc)[0]
        insns[pc] = (insn["asm"], insn["length"])
    names: dict[int, str | None] = {}
    steps = []
    for i, (pc, next_pc) in enumerate(itertools.pairwise(pcs)):
        asm, length = insns[pc]
        symbol = None
        if next_pc != pc + length:
            if next_pc not in names:
                names[next_pc] = _symbol(next_pc)
            symbol = names[next_pc]
        steps.append(
            {
                "pc": pc,
                "insn": asm,
                "length": length,
                "next_pc": next_pc,
                "symbol": symbol,
                "sp": sp if i == 0 else None,
            }
        )
    print("GUESTDBG-STEPS " + json.dumps(steps))


def guestdbg_build_id() -> None:
    """The build-id of the main objfile (the loaded vmlinux), hex."""
    print("GUESTDBG-BUILD-ID " + str(gdb.objfiles()[0].build_id))
