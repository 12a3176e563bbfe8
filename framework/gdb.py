"""gdb/MI against QEMU's gdbstub, exact rather than time-based.

pygdbmi parses the MI records; this module owns the process and the reading:
every command carries an MI token and returns when *its* result record
arrives, and ``*stopped`` records become :class:`StopEvent` s delivered in
order. Nothing waits by sleeping; every wait has a deadline, and a deadline
that passes raises with the last MI records and the guest's registers.

Each session keeps its records in the artifacts directory: ``mi.log`` (the
full MI transcript, both directions) and ``remote.log`` (gdb's remote-protocol
log, ``set remotelogfile``), which :mod:`framework.ledger` turns into the
breakpoint ledger.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pygdbmi import gdbmiparser

from framework.errors import DeadlineError, DebuggerError, HostError
from framework.process import die_with_parent

if TYPE_CHECKING:
    from framework.qemu import Guest

HELPER = Path(__file__).with_name("gdb_helper.py")
SSTEP_ENABLE, SSTEP_NOIRQ, SSTEP_NOTIMER = 0x1, 0x2, 0x4


class MiError(DebuggerError):
    """gdb answered a command with ``^error``."""

    def __init__(self, command: str, msg: str, evidence: dict[str, str]) -> None:
        super().__init__(f"gdb refused '{command}': {msg}", evidence=evidence)
        self.command = command
        self.msg = msg


@dataclass(frozen=True)
class MiRecord:
    """One MI output line, parsed. ``kind``: result, notify (``*``/``=``),
    console, log, target, output."""

    raw: str
    kind: str
    message: str | None
    payload: Any
    token: int | None
    t: float

    @classmethod
    def parse(cls, raw: str, t: float = 0.0) -> MiRecord:
        rec = gdbmiparser.parse_response(raw)
        return cls(raw, rec["type"], rec.get("message"), rec.get("payload"), rec.get("token"), t)


@dataclass(frozen=True)
class StopEvent:
    """Why and where the guest stopped (one ``*stopped`` record)."""

    reason: str  # breakpoint-hit, end-stepping-range, signal-received, ... or "" if unknown
    thread: int | None  # gdb thread id; QEMU gives one thread per vCPU
    pc: int | None
    function: str | None
    bkptno: int | None = None
    signal: str | None = None
    record: str = ""

    @classmethod
    def from_record(cls, rec: MiRecord) -> StopEvent:
        p = rec.payload or {}
        frame = p.get("frame") or {}
        addr = frame.get("addr")
        func = frame.get("func")
        return cls(
            reason=p.get("reason", ""),
            thread=int(p["thread-id"]) if str(p.get("thread-id", "")).isdigit() else None,
            pc=int(addr, 16) if addr else None,
            function=None if func in (None, "??") else func,
            bkptno=int(p["bkptno"]) if p.get("bkptno") else None,
            signal=p.get("signal-name"),
            record=rec.raw,
        )

    @property
    def cpu(self) -> int | None:
        """QEMU numbers its gdb threads from 1, one per vCPU."""
        return self.thread - 1 if self.thread else None


@dataclass(frozen=True)
class Breakpoint:
    number: int
    addr: int | None
    hardware: bool
    location: str
    hits: int = 0
    enabled: bool = True


@dataclass(frozen=True)
class ThreadInfo:
    """A gdb thread; under QEMU one per vCPU (``details`` like ``CPU#1 [running]``)."""

    id: int
    target_id: str
    details: str
    pc: int | None
    function: str | None

    @property
    def cpu(self) -> int | None:
        m = re.search(r"CPU#(\d+)", self.details)
        return int(m.group(1)) if m else None


@dataclass(frozen=True)
class Step:
    """One ``stepi``: the instruction it executed and where the guest ended up."""

    pc: int
    insn: str
    length: int
    next_pc: int
    symbol: str | None  # function+offset of next_pc
    sp: int | None = None

    @property
    def fell_through(self) -> bool:
        return self.next_pc == self.pc + self.length


@dataclass
class Debugger:
    """A gdb process speaking MI. Use as a context manager::

        with Debugger(artifacts=d) as dbg:
            dbg.load(tree.vmlinux)
            dbg.attach(guest)
            bp = dbg.break_insert("guestdbg_tick")
            stop = dbg.cont()

    gdb: the gdb binary.  artifacts: where mi.log and remote.log go (a
    temporary directory, removed on close, when None).  timeout: default
    deadline in seconds for a command's result record.  cwd: gdb's working
    directory, default the artifacts directory (lx-symbols scans it for
    modules and reloads ``vmlinux`` by that name from there).
    """

    gdb: str = "gdb"
    artifacts: Path | None = None
    timeout: float = 30.0
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    guest: Guest | None = field(default=None, init=False)
    records: collections.deque[MiRecord] = field(
        default_factory=lambda: collections.deque(maxlen=400), init=False
    )
    stops: list[StopEvent] = field(default_factory=list, init=False)
    running: bool = field(default=False, init=False)
    _pending_stops: collections.deque[StopEvent] = field(
        default_factory=collections.deque, init=False
    )
    _token: int = field(default=0, init=False)
    _inbox: queue.Queue[MiRecord | None] = field(default_factory=queue.Queue, init=False)
    _reader: threading.Thread | None = field(default=None, init=False)
    _log_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _transcript: TextIO | None = field(default=None, init=False)
    _remote: TextIO | None = field(default=None, init=False)
    _t0: float = field(default_factory=time.monotonic, init=False)
    _own_artifacts: bool = field(default=False, init=False)
    _regnums: dict[str, int] = field(default_factory=dict, init=False)

    # -- lifecycle ---------------------------------------------------------
    def __post_init__(self) -> None:
        path = shutil.which(self.gdb)
        if not path:
            raise HostError(
                f"gdb is not installed: {self.gdb} is not on PATH (apt-get install gdb)"
            )
        if self.artifacts is None:
            self.artifacts = Path(tempfile.mkdtemp(prefix="guestdbg-gdb-"))
            self._own_artifacts = True
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self._transcript = open(self.mi_log, "w")  # noqa: SIM115 - closed in close()
        self._remote = open(self.remote_log, "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [path, "--nx", "--quiet", "--interpreter=mi3"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.cwd or self.artifacts,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )
        # One thread drains gdb's output at all times, so gdb never blocks on a
        # full pipe while the guest runs and nobody is asking it anything.
        self._reader = threading.Thread(
            target=self._read_forever, name="gdb-mi-reader", daemon=True
        )
        self._reader.start()
        try:
            self._read_until(
                lambda r: r.kind == "done", time.monotonic() + self.timeout, "gdb's first prompt"
            )
            # Async MI lets -exec-interrupt and others in while the guest runs;
            # it must be set before connecting.
            self.command("-gdb-set mi-async on")
            self.command("-gdb-set pagination off")
            self.command("-gdb-set confirm off")
            self.command("-gdb-set width 0")
            self.command("-gdb-set auto-load python-scripts off")
            has_python = self.console("python print('guestdbg-python-ok')")
            if "guestdbg-python-ok" not in has_python:
                raise HostError(f"{path} has no Python support; lx-symbols needs it")
            self.console(f"source {HELPER}")
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Debugger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def mi_log(self) -> Path:
        assert self.artifacts is not None
        return self.artifacts / "mi.log"

    @property
    def remote_log(self) -> Path:
        """gdb's ``set debug remote 1`` output: every packet, both directions."""
        assert self.artifacts is not None
        return self.artifacts / "remote.log"

    def close(self, keep_paused: bool = False) -> None:
        """Detach (leaving the guest running unless ``keep_paused``) and end gdb."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                if self.guest is not None and not keep_paused:
                    self.detach()
            with contextlib.suppress(Exception):
                self._write("-gdb-exit")
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream:
                    with contextlib.suppress(OSError):
                        stream.close()
        if self._reader is not None:
            self._reader.join(timeout=5)
        with self._log_lock:
            for f in (self._transcript, self._remote):
                if f is not None:
                    f.close()
            self._transcript = self._remote = None

    def abandon(self) -> None:
        """End gdb without detaching: QEMU keeps the guest stopped exactly where
        it is, with its breakpoints and single-step flags, for another gdb to
        attach (``guestdbg repro``)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.guest = None
        self.close()

    def flush_logs(self) -> None:
        """Make mi.log and remote.log complete up to the last answered command."""
        with self._log_lock:
            for f in (self._transcript, self._remote):
                if f is not None:
                    f.flush()

    def discard_artifacts(self) -> None:
        if self._own_artifacts and self.artifacts is not None:
            shutil.rmtree(self.artifacts, ignore_errors=True)

    # -- MI plumbing -------------------------------------------------------
    def _log(self, direction: str, text: str) -> None:
        with self._log_lock:
            if self._transcript is not None:
                self._transcript.write(f"{time.monotonic() - self._t0:10.6f} {direction} {text}\n")
                self._transcript.flush()

    def _write(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self._log(">", line)
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise DebuggerError(
                f"gdb exited (status {self.proc.poll()}) before '{line}' could be sent",
                evidence=self.evidence(),
            ) from None

    def _read_forever(self) -> None:
        """Reader thread: gdb's stdout, line by line, parsed into the inbox."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = b""
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._inbox.put(None)
                return
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                text = raw.decode(errors="replace").rstrip("\r")
                if not text.strip():
                    continue
                t = time.monotonic() - self._t0
                if text.strip() == "(gdb)":
                    self._inbox.put(MiRecord(text, "done", None, None, None, t))
                    continue
                rec = MiRecord.parse(text, t)
                if rec.kind == "log" and "[remote] " in (rec.payload or ""):
                    with self._log_lock:
                        if self._remote is not None:
                            self._remote.write(rec.payload)
                    continue  # packets go to remote.log, not the MI transcript
                self._log("<", text)
                self._inbox.put(rec)

    def _handle(self, rec: MiRecord) -> None:
        self.records.append(rec)
        if rec.kind == "notify" and rec.message == "stopped":
            self.running = False
            event = StopEvent.from_record(rec)
            self.stops.append(event)
            self._pending_stops.append(event)
        elif rec.kind == "notify" and rec.message == "running":
            self.running = True

    def _read_until(self, done: Any, deadline: float, what: str) -> tuple[MiRecord, list[MiRecord]]:
        seen: list[MiRecord] = []
        while True:
            left = deadline - time.monotonic()
            try:
                rec = (
                    self._inbox.get(timeout=max(left, 0)) if left > 0 else self._inbox.get_nowait()
                )
            except queue.Empty:
                raise DeadlineError(
                    f"gdb gave no {what} before the deadline", evidence=self.evidence()
                ) from None
            if rec is None:
                self._inbox.put(None)  # stay at EOF for later readers
                status = self.proc.wait() if self.proc else None
                raise DebuggerError(
                    f"gdb exited unexpectedly (status {status})", evidence=self.evidence()
                )
            if rec.kind != "done":
                self._handle(rec)
                seen.append(rec)
            if done(rec):
                return rec, seen

    def command(
        self, mi: str, timeout: float | None = None, until: str | None = None
    ) -> tuple[str, Any, str]:
        """Send one MI command; return (result class, payload, console output).

        ``until``: also read on until a console line contains this marker
        (for CLI/Python commands that resume the guest: gdb answers those
        with ``^running`` before their output). Raises MiError on ``^error``
        and DeadlineError if the result (or the marker) never comes."""
        self._token += 1
        token = self._token
        self._write(f"{token}{mi}")
        limit = timeout or self.timeout
        deadline = time.monotonic() + limit
        rec, seen = self._read_until(
            lambda r: r.kind == "result" and r.token == token,
            deadline,
            f"result for '{mi}' within {limit:g}s",
        )
        if rec.message == "error":
            raise MiError(mi, (rec.payload or {}).get("msg", ""), self.evidence())
        if until is not None and not any(
            r.kind == "console" and until in (r.payload or "") for r in seen
        ):
            _, more = self._read_until(
                lambda r: r.kind == "console" and until in (r.payload or ""),
                deadline,
                f"output {until!r} from '{mi}' within {limit:g}s",
            )
            seen += more
        console = "".join(r.payload for r in seen if r.kind == "console" and r.payload)
        return rec.message or "", rec.payload, console

    def console(self, cli: str, timeout: float | None = None, until: str | None = None) -> str:
        """Run a CLI command; return what it printed."""
        return self.command(f"-interpreter-exec console {_mi_quote(cli)}", timeout, until)[2]

    def wait_stop(self, timeout: float | None = None) -> StopEvent:
        """The next ``*stopped`` event, in order; DeadlineError with evidence if none comes."""
        if self._pending_stops:
            return self._pending_stops.popleft()
        limit = timeout or self.timeout
        try:
            self._read_until(
                lambda r: bool(self._pending_stops),
                time.monotonic() + limit,
                f"stop within {limit:g}s",
            )
        except DeadlineError as err:
            raise DeadlineError(
                f"the guest did not stop within {limit:g}s", evidence=self.evidence()
            ) from err
        return self._pending_stops.popleft()

    def drain_stops(self) -> list[StopEvent]:
        """Forget stop events nobody waited for (e.g. during a batched step)."""
        events = list(self._pending_stops)
        self._pending_stops.clear()
        return events

    def evidence(self) -> dict[str, str]:
        """The last MI records, the guest's registers and where the logs are."""
        ev = {
            f"last MI records ({self.mi_log if self.artifacts else ''})": "\n".join(
                r.raw if len(r.raw) <= 400 else r.raw[:400] + f"... ({len(r.raw)} chars)"
                for r in list(self.records)[-25:]
            )
        }
        if self.guest is not None and self.guest.running:
            with contextlib.suppress(Exception):
                ev["guest registers (QMP info registers)"] = self.guest.registers()
            with contextlib.suppress(Exception):
                ev[f"console tail ({self.guest.console_log})"] = self.guest.console.tail(15)
        return ev

    # -- session -----------------------------------------------------------
    def load(self, vmlinux: Path | str) -> None:
        """Load a vmlinux (symbols and sections)."""
        path = Path(vmlinux)
        if not path.is_file():
            raise DebuggerError(f"vmlinux {path} does not exist")
        self.command(f"-file-exec-and-symbols {_mi_quote(str(path))}", timeout=120)

    def source(self, script: Path | str) -> str:
        return self.console(f"source {script}", timeout=120)

    def attach(
        self, guest: Guest | None = None, address: str | None = None, timeout: float | None = None
    ) -> StopEvent | None:
        """Connect to a guest's gdbstub (stops the guest, as gdb does)."""
        if guest is not None:
            self.guest = guest
            address = guest.gdbstub.address
        if not address:
            raise DebuggerError("attach needs a Guest or a gdbstub address")
        # Every packet, for the breakpoint ledger (remotelogfile stops logging
        # when lx-symbols reloads symbols from a breakpoint handler; this does not).
        self.command("-gdb-set debug remote 1")
        try:
            self.command(f"-target-select remote {address}", timeout=timeout or self.timeout)
        except MiError as err:
            raise DebuggerError(
                f"gdb could not reach the gdbstub at {address}: {err.msg}",
                evidence=err.evidence,
            ) from None
        self.running = False
        # Connecting reports where the guest is as a *stopped record of its own.
        with contextlib.suppress(DeadlineError):
            return self.wait_stop(timeout=5)
        return None

    def detach(self) -> None:
        """Detach; QEMU resumes the guest. Checked through QMP when we know the guest."""
        if self.running:
            self.interrupt()
        self.command("-target-detach")
        if self.guest is not None and self.guest.running and self.guest.status() == "paused":
            self.guest.cont()
        self.guest = None

    def verify_kernel(self) -> None:
        """DebuggerError if the loaded vmlinux is not the kernel running in the
        guest: the file's GNU build-id must be in the guest's ELF notes
        (``__start_notes``..``__stop_notes``, kept in kernel memory)."""
        out = self.console("python guestdbg_build_id()")
        m = re.search(r"GUESTDBG-BUILD-ID ([0-9a-f]+)", out)
        if not m:
            raise DebuggerError("the loaded vmlinux has no GNU build-id to compare")
        build_id = m.group(1)
        start = self.address_of("__start_notes")
        length = self.address_of("__stop_notes") - start
        try:
            notes = self.read_memory(start, length)
        except MiError as err:
            raise DebuggerError(
                f"cannot read the running kernel's notes at {start:#x}: {err.msg}"
            ) from None
        if bytes.fromhex(build_id) not in notes:
            raise DebuggerError(
                f"the vmlinux loaded in gdb (build-id {build_id}) is not the kernel running "
                "in the guest: its build-id is not in the guest's ELF notes"
            )

    # -- execution ---------------------------------------------------------
    def resume(self) -> None:
        """Resume the guest and return at once (gdb reports the next stop later)."""
        self.drain_stops()
        self.command("-exec-continue")
        self.running = True

    def cont(self, timeout: float | None = None) -> StopEvent:
        """Resume and return the next stop."""
        self.resume()
        return self.wait_stop(timeout)

    def interrupt(self, timeout: float | None = None) -> StopEvent:
        """Stop a running guest; return the stop."""
        self.command("-exec-interrupt")
        return self.wait_stop(timeout)

    def stepi(self, timeout: float | None = None) -> StopEvent:
        """One instruction, one MI round-trip."""
        self.drain_stops()
        self.command("-exec-step-instruction")
        return self.wait_stop(timeout)

    def stepi_many(self, n: int, timeout: float | None = None) -> StopEvent:
        """``n`` instructions with gdb's own ``stepi N``: one round-trip, one stop."""
        self.drain_stops()
        self.console(f"stepi {int(n)}")
        return self.wait_stop(timeout or max(60, n / 50))

    def stepi_trace(self, n: int, timeout: float | None = None) -> list[Step]:
        """``n`` instructions in one round-trip (gdb's Python does the loop);
        each step says which instruction ran and where the guest went."""
        out = self.console(
            f"python guestdbg_stepi({int(n)})",
            timeout=timeout or max(60, n / 50),
            until="GUESTDBG-STEPS ",
        )
        self.drain_stops()
        line = next((ln for ln in out.splitlines() if ln.startswith("GUESTDBG-STEPS ")), None)
        if line is None:
            raise DebuggerError(
                f"the batched stepi printed no result: {out[-300:]!r}", evidence=self.evidence()
            )
        return [Step(**s) for s in json.loads(line.split(" ", 1)[1])]

    # -- breakpoints -------------------------------------------------------
    def break_insert(
        self,
        location: str,
        hardware: bool = False,
        condition: str | None = None,
        temporary: bool = False,
        enabled: bool = True,
    ) -> Breakpoint:
        """A software (int3) or hardware (debug register) breakpoint."""
        opts = []
        if hardware:
            opts.append("-h")
        if temporary:
            opts.append("-t")
        if not enabled:
            opts.append("-d")
        if condition:
            opts += ["-c", _mi_quote(condition)]
        _, payload, _ = self.command(f"-break-insert {' '.join(opts)} {_mi_quote(location)}")
        return _breakpoint(payload["bkpt"], hardware, location)

    def break_delete(self, bp: Breakpoint | int) -> None:
        self.command(f"-break-delete {_num(bp)}")

    def break_enable(self, bp: Breakpoint | int, enabled: bool = True) -> None:
        self.command(f"-break-{'enable' if enabled else 'disable'} {_num(bp)}")

    def break_info(self, bp: Breakpoint | int) -> Breakpoint:
        """Current state of a breakpoint, with its hit count."""
        _, payload, _ = self.command(f"-break-info {_num(bp)}")
        body = payload["BreakpointTable"]["body"][0]
        return _breakpoint(body, "hw" in body.get("type", ""), body.get("original-location", ""))

    # -- state -------------------------------------------------------------
    def register_numbers(self) -> dict[str, int]:
        if not self._regnums:
            _, payload, _ = self.command("-data-list-register-names")
            self._regnums = {n: i for i, n in enumerate(payload["register-names"]) if n}
        return self._regnums

    def registers(
        self, names: tuple[str, ...] = ("rip", "rsp", "eflags", "rdi", "rax")
    ) -> dict[str, int]:
        """Registers of the selected thread (vCPU) as integers."""
        nums = self.register_numbers()
        wanted = {nums[n]: n for n in names if n in nums}
        _, payload, _ = self.command(
            "-data-list-register-values --skip-unavailable x " + " ".join(map(str, wanted))
        )
        return {wanted[int(v["number"])]: int(v["value"], 16) for v in payload["register-values"]}

    def read_memory(self, addr: int, length: int) -> bytes:
        _, payload, _ = self.command(f"-data-read-memory-bytes {addr:#x} {length}")
        return bytes.fromhex("".join(m["contents"] for m in payload["memory"]))

    def evaluate(self, expr: str) -> str:
        return str(self.command(f"-data-evaluate-expression {_mi_quote(expr)}")[1]["value"])

    def evaluate_int(self, expr: str) -> int:
        value = self.evaluate(expr).split()[0]
        return int(value, 0)

    def symbol(self, addr: int) -> str | None:
        """``function+0xoff`` for an address, from gdb's symbols (None if unknown)."""
        out = self.console(f"info symbol {addr:#x}")
        m = re.match(r"(\S+)(?: \+ (\d+))? in section", out.strip())
        if not m:
            return None
        off = int(m.group(2) or 0)
        return f"{m.group(1)}+{off:#x}"

    def address_of(self, symbol: str) -> int:
        return self.evaluate_int(f"(unsigned long)&{symbol}")

    def threads(self) -> list[ThreadInfo]:
        """One entry per vCPU."""
        _, payload, _ = self.command("-thread-info")
        out = []
        for t in payload.get("threads", []):
            frame = t.get("frame") or {}
            addr = frame.get("addr")
            func = frame.get("func")
            out.append(
                ThreadInfo(
                    int(t["id"]),
                    t.get("target-id", ""),
                    t.get("details", ""),
                    int(addr, 16) if addr else None,
                    None if func in (None, "??") else func,
                )
            )
        return out

    def select_thread(self, thread: int) -> None:
        self.command(f"-thread-select {thread}")

    # -- QEMU's gdbstub ----------------------------------------------------
    def maintenance_packet(self, packet: str) -> str:
        """Send a raw remote packet; return the stub's reply text."""
        out = self.console(f"maintenance packet {packet}")
        m = re.search(r'received: "(.*)"', out)
        if not m:
            raise DebuggerError(f"no reply to packet {packet!r}: {out!r}")
        return m.group(1)

    def sstep_flags(self) -> int:
        """QEMU's single-step flags: ENABLE=1, NOIRQ=2, NOTIMER=4."""
        reply = self.maintenance_packet("qqemu.sstep")
        return int(reply.removeprefix("0x"), 16)

    def supported_sstep_flags(self) -> int:
        return _parse_sstepbits(self.maintenance_packet("qqemu.sstepbits"))

    def set_sstep_flags(self, flags: int) -> None:
        reply = self.maintenance_packet(f"Qqemu.sstep={flags:#x}")
        if reply != "OK":
            raise DebuggerError(f"QEMU refused single-step flags {flags:#x}: {reply}")


def _parse_sstepbits(reply: str) -> int:
    """``ENABLE=1,NOIRQ=2,NOTIMER=4`` -> the OR of the values."""
    bits = 0
    for part in reply.split(","):
        if "=" in part:
            bits |= int(part.split("=")[1], 16)
    return bits


def _num(bp: Breakpoint | int) -> int:
    return bp.number if isinstance(bp, Breakpoint) else bp


def _breakpoint(b: dict[str, Any], hardware: bool, location: str) -> Breakpoint:
    addr = b.get("addr")
    return Breakpoint(
        number=int(b["number"]),
        addr=int(addr, 16) if addr and addr.startswith("0x") else None,
        hardware=hardware,
        location=location,
        hits=int(b.get("times", 0)),
        enabled=b.get("enabled", "y") == "y",
    )


def _mi_quote(text: str) -> str:
    """Quote an argument for MI (C-style string)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
