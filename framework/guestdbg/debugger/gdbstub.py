"""QEMU's own gdbstub extensions, reached through gdb's ``maintenance packet``.

Single-step flags (``qqemu.sstepbits``, ``qqemu.sstep``, ``Qqemu.sstep=HEX``):
ENABLE=1, NOIRQ=2 (no interrupts while stepping), NOTIMER=4 (no timers).
QEMU's default is 0x7 under TCG; under KVM 0x3 where the host advertises
KVM_GUESTDBG_BLOCKIRQ and 0x1 where it does not (NOTIMER is refused, E22).
"""

from __future__ import annotations

import re
from typing import Protocol

from guestdbg.errors import DebuggerError

SSTEP_ENABLE, SSTEP_NOIRQ, SSTEP_NOTIMER = 0x1, 0x2, 0x4


class _Console(Protocol):
    def console(self, cli: str, timeout: float | None = None, until: str | None = None) -> str: ...


class QemuGdbStub:
    """QEMU's gdbstub as seen through one gdb session (``Debugger.stub``)."""

    def __init__(self, gdb: _Console) -> None:
        self._gdb = gdb

    def packet(self, packet: str) -> str:
        """Send a raw remote packet; return the stub's reply text."""
        out = self._gdb.console(f"maintenance packet {packet}")
        m = re.search(r'received: "(.*)"', out)
        if not m:
            raise DebuggerError(f"no reply to packet {packet!r}: {out!r}")
        return m.group(1)

    def sstep_flags(self) -> int:
        """QEMU's single-step flags now in force."""
        reply = self.packet("qqemu.sstep")
        return int(reply.removeprefix("0x"), 16)

    def supported_sstep_flags(self) -> int:
        """The flags this QEMU (and, under KVM, this host) supports."""
        return parse_sstepbits(self.packet("qqemu.sstepbits"))

    def set_sstep_flags(self, flags: int) -> None:
        reply = self.packet(f"Qqemu.sstep={flags:#x}")
        if reply != "OK":
            raise DebuggerError(f"QEMU refused single-step flags {flags:#x}: {reply}")


def parse_sstepbits(reply: str) -> int:
    """``ENABLE=1,NOIRQ=2,NOTIMER=4`` -> the OR of the values."""
    bits = 0
    for part in reply.split(","):
        if "=" in part:
            bits |= int(part.split("=")[1], 16)
    return bits
