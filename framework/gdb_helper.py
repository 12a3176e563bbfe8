"""Sourced into gdb by framework.gdb: loops that would cost one MI round-trip
per iteration run here, inside gdb's own Python, and print one JSON line."""

from __future__ import annotations

import json

import gdb


def _symbol(pc: int) -> str | None:
    out = gdb.execute(f"info symbol {pc:#x}", to_string=True).strip()
    if " in section " not in out:
        return None
    name, _, rest = out.partition(" in section ")[0].partition(" + ")
    return f"{name}+{int(rest or 0):#x}"


def guestdbg_stepi(n: int) -> None:
    """Step ``n`` instructions on the selected vCPU, recording each one."""
    arch = gdb.selected_frame().architecture()
    steps = []
    for _ in range(n):
        frame = gdb.selected_frame()
        pc = int(frame.pc())
        insn = arch.disassemble(pc)[0]
        sp = int(frame.read_register("rsp"))
        gdb.execute("stepi", to_string=True)
        next_pc = int(gdb.selected_frame().pc())
        steps.append(
            {
                "pc": pc,
                "insn": insn["asm"],
                "length": insn["length"],
                "next_pc": next_pc,
                "symbol": None,
                "sp": sp,
            }
        )
    names = {}
    for s in steps:
        if s["next_pc"] != s["pc"] + s["length"]:
            if s["next_pc"] not in names:
                names[s["next_pc"]] = _symbol(s["next_pc"])
            s["symbol"] = names[s["next_pc"]]
    print("GUESTDBG-STEPS " + json.dumps(steps))


def guestdbg_build_id() -> None:
    """The build-id of the main objfile (the loaded vmlinux), hex."""
    print("GUESTDBG-BUILD-ID " + str(gdb.objfiles()[0].build_id))
