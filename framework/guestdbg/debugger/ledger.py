"""The breakpoint ledger: what gdb told QEMU's gdbstub, in order.

gdb's remote-protocol log is replayed into a list of :class:`LedgerEvent` s:
breakpoint inserts and removes (``Z0/z0`` software, ``Z1/z1`` hardware),
steps and continues (``s``, ``c``, ``vCont``) with the PC of the vCPU they
resume, stop replies, and detach. Both log formats are read: ``set debug
remote 1`` (``[remote] Sending packet: $…#xx`` / ``[remote] Packet received:
…``) and ``set remotelogfile`` (``w``/``r`` lines). From that the ledger
answers the two questions that prove or clear "gdb left an int3 in guest
memory":

- :meth:`BreakpointLedger.resumes_over_planted` — a step or continue sent
  while a software breakpoint is planted at the resumed vCPU's PC (gdb must
  remove it, step over, and re-insert; under KVM a planted int3 executes);
- :meth:`BreakpointLedger.unbalanced` — inserts and removes that do not pair
  up (inserted twice, removed when not planted, still planted at the end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

PACKET_RE = re.compile(r"\$([^$#]*)#[0-9a-fA-F]{2}")
THREAD_RE = re.compile(r"(?:p[0-9a-fA-F]+\.)?(-1|[0-9a-fA-F]+)$")
RIP_OFFSET = 16 * 8  # x86-64 'g' layout: rax..r15, then rip


@dataclass(frozen=True)
class LedgerEvent:
    """One thing gdb did to the target.

    kind: insert, remove, step, continue, stop, detach.  addr: breakpoint
    address (insert/remove) or the resumed vCPU's PC when known (step /
    continue).  bp: 'sw' or 'hw'.  thread: the vCPU thread the packet names.
    line: 1-based line of the remote log, for evidence.
    """

    kind: str
    line: int
    packet: str
    addr: int | None = None
    bp: str | None = None
    thread: int | None = None


@dataclass(frozen=True)
class LedgerProblem:
    """A defect the ledger proves, with the packets that show it."""

    what: str  # resume-over-planted, double-insert, remove-unplanted, left-planted
    addr: int
    line: int
    detail: str


@dataclass
class BreakpointLedger:
    events: list[LedgerEvent] = field(default_factory=list)

    def by_address(self) -> dict[int, list[LedgerEvent]]:
        """Inserts and removes per address, in order."""
        out: dict[int, list[LedgerEvent]] = {}
        for e in self.events:
            if e.kind in ("insert", "remove") and e.addr is not None:
                out.setdefault(e.addr, []).append(e)
        return out

    def resumes_over_planted(self) -> list[LedgerProblem]:
        """Steps/continues sent while a software breakpoint sat at the resumed PC."""
        planted: dict[int, LedgerEvent] = {}
        problems = []
        for e in self.events:
            if e.kind == "insert" and e.bp == "sw" and e.addr is not None:
                planted[e.addr] = e
            elif e.kind == "remove" and e.bp == "sw" and e.addr is not None:
                planted.pop(e.addr, None)
            elif e.kind in ("step", "continue") and e.addr is not None and e.addr in planted:
                ins = planted[e.addr]
                problems.append(
                    LedgerProblem(
                        "resume-over-planted",
                        e.addr,
                        e.line,
                        f"{e.kind} packet '{e.packet}' (remote log line {e.line}) resumed the vCPU "
                        f"at {e.addr:#x} while the software breakpoint inserted by "
                        f"'{ins.packet}' (line {ins.line}) was still planted there",
                    )
                )
        return problems

    def unbalanced(self) -> list[LedgerProblem]:
        """Double inserts, removes of nothing, and breakpoints planted at the end."""
        problems = []
        for addr, evs in self.by_address().items():
            depth: dict[str, int] = {}
            for e in evs:
                key = e.bp or "sw"
                if e.kind == "insert":
                    if depth.get(key, 0) > 0:
                        problems.append(
                            LedgerProblem(
                                "double-insert",
                                addr,
                                e.line,
                                f"'{e.packet}' (line {e.line}) inserted a {key} breakpoint at "
                                f"{addr:#x} that was already planted",
                            )
                        )
                    depth[key] = depth.get(key, 0) + 1
                else:
                    if depth.get(key, 0) == 0:
                        problems.append(
                            LedgerProblem(
                                "remove-unplanted",
                                addr,
                                e.line,
                                f"'{e.packet}' (line {e.line}) removed a {key} breakpoint at "
                                f"{addr:#x} that was not planted",
                            )
                        )
                    depth[key] = max(0, depth.get(key, 0) - 1)
            for key, n in depth.items():
                if n > 0:
                    last = evs[-1]
                    problems.append(
                        LedgerProblem(
                            "left-planted",
                            addr,
                            last.line,
                            f"a {key} breakpoint at {addr:#x} was still planted when the log ended "
                            f"(last: '{last.packet}', line {last.line})",
                        )
                    )
        return problems

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events if e.kind == kind)


def _thread(text: str) -> int | None:
    m = THREAD_RE.search(text)
    if not m or m.group(1) == "-1":
        return None
    return int(m.group(1), 16)


SENT_RE = re.compile(r"\[remote\] Sending packet: \$([^#]*)#[0-9a-fA-F]{2}")
RECEIVED_RE = re.compile(r"\[remote\] Packet received: (.*)$")


def _packets(text: str) -> list[tuple[int, str, str]]:
    """(line number, 'w' or 'r', packet) for both log formats."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = SENT_RE.search(line)
        if m:
            out.append((lineno, "w", m.group(1)))
            continue
        m = RECEIVED_RE.search(line)
        if m:
            out.append((lineno, "r", m.group(1)))
            continue
        if len(line) >= 2 and line[1] == " " and line[0] in "wr":
            out.extend((lineno, line[0], p) for p in PACKET_RE.findall(line[2:]))
    return out


def parse_remote_log(text: str) -> BreakpointLedger:
    """Replay a remote-protocol log into a ledger."""
    ledger = BreakpointLedger()
    pcs: dict[int, int] = {}
    current: int | None = None  # the thread 'g' and 's' refer to
    last_sent = ""
    for lineno, direction, packet in _packets(text):
        if direction == "w":
            last_sent = packet
            current = _sent(ledger, packet, lineno, pcs, current)
        else:
            current = _received(ledger, packet, lineno, last_sent, pcs, current)
    return ledger


def _sent(
    ledger: BreakpointLedger, packet: str, lineno: int, pcs: dict[int, int], current: int | None
) -> int | None:
    m = re.match(r"([Zz])([01]),([0-9a-fA-F]+),", packet)
    if m:
        ledger.events.append(
            LedgerEvent(
                "insert" if m.group(1) == "Z" else "remove",
                lineno,
                packet,
                addr=int(m.group(3), 16),
                bp="sw" if m.group(2) == "0" else "hw",
            )
        )
        return current
    if packet.startswith("Hg"):
        return _thread(packet[2:]) or current
    if packet.startswith("vCont;"):
        actions = packet[6:].split(";")
        named = {_thread(a.partition(":")[2]) for a in actions if a.partition(":")[2]}
        for action in actions:
            verb, _, who = action.partition(":")
            thread = _thread(who) if who else None
            kind = {"s": "step", "c": "continue"}.get(verb[:1])
            if kind is None:
                continue
            if thread is None and kind == "continue":
                # 'c' for all threads: each stopped vCPU resumes at its PC.
                for t, pc in pcs.items():
                    if t in named:
                        continue
                    ledger.events.append(LedgerEvent(kind, lineno, packet, addr=pc, thread=t))
                if not pcs:
                    ledger.events.append(LedgerEvent(kind, lineno, packet))
            else:
                who_t = thread if thread is not None else current
                at = pcs.get(who_t) if who_t is not None else None
                ledger.events.append(LedgerEvent(kind, lineno, packet, addr=at, thread=who_t))
        pcs.clear()
        return current
    if packet in ("s", "c") or re.fullmatch(r"[sc][0-9a-fA-F]+", packet):
        kind = "step" if packet[0] == "s" else "continue"
        at = pcs.get(current) if current is not None else None
        ledger.events.append(LedgerEvent(kind, lineno, packet, addr=at, thread=current))
        pcs.clear()
        return current
    if packet == "D" or packet.startswith("D;"):
        ledger.events.append(LedgerEvent("detach", lineno, packet))
    return current


def _received(
    ledger: BreakpointLedger,
    packet: str,
    lineno: int,
    last_sent: str,
    pcs: dict[int, int],
    current: int | None,
) -> int | None:
    if packet.startswith(("T", "S")) and len(packet) >= 3:
        m = re.search(r"thread:([^;]+);", packet)
        thread = _thread(m.group(1)) if m else current
        ledger.events.append(LedgerEvent("stop", lineno, packet, thread=thread))
        return thread
    if current is None:
        return current
    if last_sent == "g" and len(packet) >= (RIP_OFFSET + 8) * 2:
        pcs[current] = int.from_bytes(
            bytes.fromhex(packet[RIP_OFFSET * 2 : (RIP_OFFSET + 8) * 2]), "little"
        )
    elif last_sent == "p10" and len(packet) == 16:
        pcs[current] = int.from_bytes(bytes.fromhex(packet), "little")
    return current


def parse_remote_log_file(path: Path) -> BreakpointLedger:
    return parse_remote_log(path.read_text(errors="replace"))
