"""gdb/MI transport: one gdb process, its records, and token-matched commands.

pygdbmi parses the MI records; this module owns the process and the reading:
a reader thread drains gdb at all times (gdb never blocks on a full pipe while
the guest runs), every command carries an MI token and returns when *its*
result record arrives, and ``*stopped`` records become :class:`StopEvent` s
delivered in order. Nothing waits by sleeping; every wait has a deadline.

The channel keeps ``mi.log`` (the full transcript, both directions) and
``remote.log`` (gdb's ``set debug remote 1`` packets, which
:mod:`guestdbg.debugger.ledger` reads) in the session's artifacts directory.
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pygdbmi import gdbmiparser

from guestdbg.errors import DeadlineError, DebuggerError, GuestError
from guestdbg.runtime.process import die_with_parent

Evidence = Callable[[], dict[str, str]]
# What gdb logs when the remote target goes away (QEMU died or closed the stub).
REMOTE_LOST = ("Remote connection closed", "Remote communication error")
# A log record gdb_helper prints in place of packets it captured (a batch of
# steps): the rest of the line names the file that holds them.
SPLICE = "[remote] GUESTDBG-SPLICE "


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


def mi_quote(text: str) -> str:
    """Quote an argument for MI (C-style string)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class MiChannel:
    """One gdb process speaking MI3.

    argv: the gdb command line.  cwd: its working directory.  mi_log,
    remote_log: the transcript files.  timeout: default deadline for a
    command's result.  evidence: called when a wait fails, for the error's
    evidence (the Debugger adds the guest's registers and console).
    check: called each second of a wait: None while the target (QEMU) is
    alive, else the sentence why not; a wait ends at once with GuestError.
    lost: called when gdb says the remote connection closed: the sentence why
    (QEMU's exit status)."""

    def __init__(
        self,
        argv: list[str],
        cwd: Path,
        mi_log: Path,
        remote_log: Path,
        timeout: float,
        evidence: Evidence | None = None,
        check: Callable[[], str | None] | None = None,
        lost: Callable[[], str] | None = None,
    ) -> None:
        self.timeout = timeout
        self.check = check
        self.lost = lost
        self.disconnected: str | None = None
        self.records: collections.deque[MiRecord] = collections.deque(maxlen=400)
        self.stops: list[StopEvent] = []
        self.running = False
        self.mi_log = mi_log
        self._evidence = evidence
        self._pending_stops: collections.deque[StopEvent] = collections.deque()
        self._token = 0
        self._inbox: queue.Queue[MiRecord | None] = queue.Queue()
        self._log_lock = threading.Lock()
        self._t0 = time.monotonic()
        self._transcript: TextIO | None = open(mi_log, "w")  # noqa: SIM115 - closed in close()
        self._remote: TextIO | None = open(remote_log, "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )
        self._reader = threading.Thread(
            target=self._read_forever, name="gdb-mi-reader", daemon=True
        )
        self._reader.start()

    # -- lifecycle ---------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def exit_gracefully(self, grace: float = 5.0) -> None:
        """``-gdb-exit``, then SIGKILL of gdb's process group after ``grace`` seconds."""
        if self.alive:
            with contextlib.suppress(Exception):
                self.write("-gdb-exit")
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL gdb (its connection drops; QEMU keeps the guest stopped)."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def close(self) -> None:
        """Release the pipes, the reader and the transcript files (gdb must be gone)."""
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                with contextlib.suppress(OSError):
                    stream.close()
        self._reader.join(timeout=5)
        with self._log_lock:
            for f in (self._transcript, self._remote):
                if f is not None:
                    f.close()
            self._transcript = self._remote = None

    def flush_logs(self) -> None:
        """Make mi.log and remote.log complete up to the last answered command."""
        with self._log_lock:
            for f in (self._transcript, self._remote):
                if f is not None:
                    f.flush()

    # -- plumbing ----------------------------------------------------------
    def evidence(self) -> dict[str, str]:
        if self._evidence is not None:
            return self._evidence()
        return {"last MI records": self.last_records()}

    def last_records(self, n: int = 25) -> str:
        return "\n".join(
            r.raw if len(r.raw) <= 400 else r.raw[:400] + f"... ({len(r.raw)} chars)"
            for r in list(self.records)[-n:]
        )

    def _log(self, direction: str, text: str) -> None:
        with self._log_lock:
            if self._transcript is not None:
                self._transcript.write(f"{time.monotonic() - self._t0:10.6f} {direction} {text}\n")
                self._transcript.flush()

    def write(self, line: str) -> None:
        assert self.proc.stdin is not None
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
        assert self.proc.stdout is not None
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
                    self._remote_packets(rec.payload)
                    continue  # packets go to remote.log, not the MI transcript
                self._log("<", text)
                self._inbox.put(rec)

    def _remote_packets(self, payload: str) -> None:
        """Packet lines into remote.log, in the order gdb logged them; a
        splice record brings in, at its place, the packets of a batch that
        gdb's Python captured (they would cost seconds as MI records)."""
        text = payload
        if payload.startswith(SPLICE):
            spill = Path(payload[len(SPLICE) :].strip())
            try:
                text = spill.read_text(errors="replace")
                spill.unlink()
            except OSError as err:
                text = f"[guestdbg] the packets of a batch of steps are lost: {err}\n"
        with self._log_lock:
            if self._remote is not None:
                self._remote.write(text)

    def _handle(self, rec: MiRecord) -> None:
        self.records.append(rec)
        if rec.kind == "log" and any(m in (rec.payload or "") for m in REMOTE_LOST):
            self.disconnected = (rec.payload or "").strip()
        if rec.kind == "notify" and rec.message == "stopped":
            self.running = False
            event = StopEvent.from_record(rec)
            self.stops.append(event)
            self._pending_stops.append(event)
        elif rec.kind == "notify" and rec.message == "running":
            self.running = True

    def _drain_until(
        self, done: Callable[[MiRecord], bool], seen: list[MiRecord], grace: float = 1.0
    ) -> MiRecord | None:
        """Records already sent (or arriving within ``grace``): the first that
        ``done`` accepts, else None."""
        end = time.monotonic() + grace
        while True:
            try:
                rec = self._inbox.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                return None
            if rec is None:
                self._inbox.put(None)
                return None
            if rec.kind != "done":
                self._handle(rec)
                seen.append(rec)
            if done(rec):
                return rec
            if self.disconnected and rec.kind == "log":
                return None  # the stub went away: the check's verdict stands

    def read_until(
        self, done: Callable[[MiRecord], bool], deadline: float, what: str
    ) -> tuple[MiRecord, list[MiRecord]]:
        seen: list[MiRecord] = []
        while True:
            left = deadline - time.monotonic()
            try:
                rec = (
                    self._inbox.get(timeout=min(left, 1.0))
                    if left > 0
                    else self._inbox.get_nowait()
                )
            except queue.Empty:
                if left <= 0:
                    raise DeadlineError(
                        f"gdb gave no {what} before the deadline", evidence=self.evidence()
                    ) from None
                why = self.check() if self.check is not None else None
                if why:
                    # What gdb said while the check ran comes first: a guest
                    # that died under the debugger (it took a breakpoint and
                    # panicked) ends with gdb's stop, which is the finding.
                    late = self._drain_until(done, seen)
                    if late is not None:
                        return late, seen
                    raise GuestError(
                        f"{why} (while gdb waited for {what})", evidence=self.evidence()
                    ) from None
                continue
            if rec is None:
                self._inbox.put(None)  # stay at EOF for later readers
                status = self.proc.wait()
                # gdb may go because its target did (it lost the gdbstub): then
                # the target's death is the cause, and the message says so.
                target = self.lost() if self.disconnected and self.lost else None
                target = target or (self.check() if self.check is not None else None)
                raise DebuggerError(
                    f"gdb exited unexpectedly (status {status})"
                    + (f" after its target went away: {target}" if target else ""),
                    evidence=self.evidence(),
                )
            if rec.kind != "done":
                self._handle(rec)
                seen.append(rec)
            if done(rec):
                return rec, seen
            if self.disconnected and rec.kind == "log":
                why = self.lost() if self.lost is not None else "the target went away"
                raise GuestError(
                    f"gdb lost the gdbstub ({self.disconnected}): {why} (while gdb waited for "
                    f"{what})",
                    evidence=self.evidence(),
                )

    # -- commands ----------------------------------------------------------
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
        self.write(f"{token}{mi}")
        limit = timeout or self.timeout
        deadline = time.monotonic() + limit
        rec, seen = self.read_until(
            lambda r: r.kind == "result" and r.token == token,
            deadline,
            f"result for '{mi}' within {limit:g}s",
        )
        if rec.message == "error":
            raise MiError(mi, (rec.payload or {}).get("msg", ""), self.evidence())
        if until is not None and not any(
            r.kind == "console" and until in (r.payload or "") for r in seen
        ):
            _, more = self.read_until(
                lambda r: r.kind == "console" and until in (r.payload or ""),
                deadline,
                f"output {until!r} from '{mi}' within {limit:g}s",
            )
            seen += more
        console = "".join(r.payload for r in seen if r.kind == "console" and r.payload)
        return rec.message or "", rec.payload, console

    def wait_stop(self, timeout: float | None = None) -> StopEvent:
        """The next ``*stopped`` event, in order; DeadlineError with evidence if none comes."""
        if self._pending_stops:
            return self._pending_stops.popleft()
        limit = timeout or self.timeout
        try:
            self.read_until(
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
