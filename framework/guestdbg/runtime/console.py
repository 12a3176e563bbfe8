"""The guest's serial console: pexpect over the chardev socket.

QEMU writes everything the guest prints to its own logfile as well, so the
full console log survives whatever happens to this reader. A pump thread
drains the socket at all times: a console nobody reads would otherwise make
QEMU hold the emulated UART, and the guest kernel would spin with interrupts
off on every character it prints (lost panics, distorted timing). The guest's init
(images/initramfs/init) runs a command loop without echo; :meth:`Console.run`
sends a command base64-encoded (no quoting problems) followed by a marker
that carries the exit status.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import re
import secrets
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pexpect.fdpexpect

from guestdbg.errors import DeadlineError, GuestError

READY_RE = re.compile(rb"GUESTDBG-READY release=(\S+) cpus=(\d+)\r?\n")
PRINTK_LINE_RE = re.compile(r"^\[\s*\d+\.\d+\] ")


@dataclass(frozen=True)
class CommandResult:
    """What a shell command in the guest printed, and how it exited.

    ``output`` has kernel (printk) lines that interleaved with the command
    removed and ``\\r\\n`` normalised; ``raw`` is exactly what was read."""

    command: str
    status: int
    output: str
    raw: str

    @property
    def ok(self) -> bool:
        return self.status == 0


@dataclass(frozen=True)
class ReadyInfo:
    release: str
    cpus: int


def tail_of(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, for error evidence."""
    try:
        data = path.read_bytes()
    except OSError:
        return f"(no log at {path})"
    text = data.decode(errors="replace").replace("\r\n", "\n").replace("\x00", "")
    return "\n".join(text.splitlines()[-lines:])


class Console:
    """One guest serial console, connected to QEMU's chardev socket."""

    def __init__(
        self,
        sock: socket.socket,
        log_path: Path,
        on_dead: Callable[[], str] | None = None,
        check: Callable[[], str | None] | None = None,
    ) -> None:
        """``sock``: connected socket carrying the guest's ttyS0.
        ``log_path``: QEMU's logfile of the same chardev (the complete record).
        ``on_dead``: called when the console closes: the sentence why (QEMU's exit).
        ``check``: called each second of a wait: None while QEMU is alive and
        answering, else the sentence why not (a frozen QEMU ends the wait)."""
        self.sock = sock
        self.log_path = log_path
        self._on_dead = on_dead
        self._check = check
        # socket -> pump thread -> pipe -> pexpect. The thread never blocks on
        # the pipe: what does not fit waits in memory.
        self._rfd, self._wfd = os.pipe()
        fcntl.fcntl(self._wfd, fcntl.F_SETFL, os.O_NONBLOCK)
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._wfd, 1031, 1 << 20)  # F_SETPIPE_SZ: 1 MiB
        self._stop_r, self._stop_w = os.pipe()
        self._pump = threading.Thread(target=self._pump_forever, name="console-pump", daemon=True)
        self._pump.start()
        self.child = pexpect.fdpexpect.fdspawn(self._rfd, encoding=None, timeout=30)
        self.child.maxread = 65536
        self.ready: ReadyInfo | None = None

    def _pump_forever(self) -> None:
        pending = b""
        sock_open = True
        try:
            while sock_open or pending:
                rlist = [self._stop_r] + ([self.sock] if sock_open else [])
                wlist = [self._wfd] if pending else []
                readable, writable, _ = select.select(rlist, wlist, [])
                if self._stop_r in readable:
                    return
                if self.sock in readable:
                    try:
                        chunk = self.sock.recv(65536)
                    except OSError:
                        chunk = b""
                    if chunk:
                        pending += chunk
                    else:
                        sock_open = False
                if pending and (writable or self.sock in readable):
                    try:
                        n = os.write(self._wfd, pending)
                        pending = pending[n:]
                    except BlockingIOError:
                        pass
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                os.close(self._wfd)  # EOF for pexpect: the console closed

    def tail(self, lines: int = 40) -> str:
        return tail_of(self.log_path, lines)

    def text(self) -> str:
        """Everything the console printed so far (from QEMU's logfile)."""
        try:
            return self.log_path.read_bytes().decode(errors="replace")
        except OSError:
            return ""

    def _evidence(self) -> dict[str, str]:
        return {f"console tail ({self.log_path})": self.tail()}

    def _died(self, doing: str) -> GuestError:
        why = self._on_dead() if self._on_dead is not None else None
        return GuestError(
            f"the guest's console closed while {doing}: {why or 'QEMU exited'}; "
            f"full console log: {self.log_path}",
            evidence=self._evidence(),
        )

    def expect(self, pattern: bytes | re.Pattern[bytes], timeout: float, doing: str) -> re.Match:
        """Wait for ``pattern``; GuestError at once when QEMU dies or freezes,
        DeadlineError with the console tail when it never comes."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                self.child.expect(pattern, timeout=max(0.0, min(left, 1.0)))
                break
            except pexpect.TIMEOUT:
                if left <= 1.0:
                    raise DeadlineError(
                        f"no {doing} within {timeout:g}s; full console log: {self.log_path}",
                        evidence=self._evidence(),
                    ) from None
                why = self._check() if self._check is not None else None
                if why:
                    raise GuestError(
                        f"{why} (while waiting for {doing}); full console log: {self.log_path}",
                        evidence=self._evidence(),
                    ) from None
            except pexpect.EOF:
                raise self._died(f"waiting for {doing}") from None
        match = self.child.match
        assert isinstance(match, re.Match)
        return match

    def wait_ready(self, timeout: float) -> ReadyInfo:
        """Wait for init's readiness marker (the shell is then taking commands)."""
        m = self.expect(READY_RE, timeout, "readiness marker (GUESTDBG-READY) from the guest")
        self.ready = ReadyInfo(m.group(1).decode(), int(m.group(2)))
        return self.ready

    def send(self, text: str) -> None:
        try:
            self.sock.sendall(text.encode())
        except OSError:
            raise self._died("sending to it") from None

    def run(self, command: str, timeout: float = 30.0) -> CommandResult:
        """Run ``command`` in the guest shell; return its output and exit status."""
        nonce = secrets.token_hex(4)
        encoded = base64.b64encode(command.encode()).decode()
        # A subshell, so `exit N` reports N instead of ending the command loop.
        line = f'(eval "$(echo {encoded} | base64 -d)"); echo "@@{nonce}@@$?@@"\n'
        self.send(line)
        m = self.expect(
            re.compile(rf"@@{nonce}@@(\d+)@@\r?\n".encode()),
            timeout,
            f"end of command {command!r}",
        )
        raw = (self.child.before or b"").decode(errors="replace")
        text = raw.replace("\r\n", "\n").replace("\x00", "")
        output = "\n".join(line for line in text.split("\n") if not PRINTK_LINE_RE.match(line))
        return CommandResult(command, int(m.group(1)), output, raw)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")
        self._pump.join(timeout=5)
        for fd in (self._rfd, self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            self.sock.close()
