"""The guest's serial ports: the kernel console, and the shell's own port.

Two 16550 UARTs, each a QEMU chardev socket this process listens on; each
port's pump thread writes every byte it receives to the port's log file, the
complete record (not QEMU's chardev logfile: QEMU 7.2 writes a byte there
again when its socket write had to be retried, so under load a splat in it
has doubled characters the guest never printed):

- ``ttyS0``, the kernel console (``console=ttyS0``): everything the kernel
  prints, and the readiness marker of the guest's init;
- ``ttyS1``, the command port: the guest's init serves a shell loop there, so
  a command's output and its end marker never mix with kernel output — the
  kernel prints (boot stragglers, NMI messages, WARN splats: the very things
  this project provokes) whenever it likes, on the other port.

A guest whose init serves the shell on the console itself (an older init, or
a kernel with one UART) is still driven: the end marker is matched wherever
it sits in a line (a printk may follow it on the same line) and printk lines
are taken out of the output.

A pump thread per port drains its socket at all times: a port nobody reads
would make QEMU hold the emulated UART, and the guest kernel would spin with
interrupts off on every character it prints (lost panics, distorted timing).
:meth:`Console.run` sends a command base64-encoded (no quoting problems)
followed by a marker that carries the exit status.
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
import struct
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pexpect.fdpexpect

from guestdbg.errors import DeadlineError, GuestError

READY_MARK = b"GUESTDBG-READY"
# What follows the marker on its line, once printk records are taken out:
# init's echo reaches the UART a FIFO at a time and printk writes in between.
READY_REST_RE = re.compile(rb" release=(\S+) cpus=(\d+)(?: commands=(\w+))?\r?\n")
PRINTK_RECORD_RE = re.compile(rb"\[\s*\d+\.\d{6}\] [^\n]*\n")
# The whole line when nothing broke into it (scripts/capture-corpus waits for it).
READY_RE = re.compile(READY_MARK + READY_REST_RE.pattern)
PRINTK_LINE_RE = re.compile(r"^\[\s*\d+\.\d+\] ")
PRINTK_RE = re.compile(r"\[\s*\d+\.\d{6}\] [^\n]*\n")
COMMAND_PORT = "ttyS1"


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
    commands: str | None = None  # the port of the shell loop: ttyS1, or None for the console


def tail_of(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, for error evidence."""
    try:
        data = path.read_bytes()
    except OSError:
        return f"(no log at {path})"
    text = data.decode(errors="replace").replace("\r\n", "\n").replace("\x00", "")
    if not text.strip():
        return f"(nothing yet: {path} is empty)"
    return "\n".join(text.splitlines()[-lines:])


def command_line(command: str, nonce: str) -> str:
    """The line the guest's shell loop evaluates: the command, decoded from
    base64, in a subshell (so ``exit N`` reports N instead of ending the loop),
    then the end marker with its status, ``@@NONCE@@STATUS@@``."""
    encoded = base64.b64encode(command.encode()).decode()
    # No newline after the marker: nothing of this command is left to be read
    # as the start of the next one's output.
    return f'(eval "$(echo {encoded} | base64 -d)"); printf "@@{nonce}@@%d@@" "$?"\n'


def end_marker(nonce: str) -> re.Pattern[bytes]:
    """The end marker, wherever it sits: a printk may be glued right after it
    (no newline required)."""
    return re.compile(rf"@@{nonce}@@(\d+)@@".encode())


def command_output(raw: str, kernel_lines: bool = False) -> str:
    """A command's output, ``\\r\\n`` normalised; ``kernel_lines``: the shell
    shares the kernel console, so printk records that interleaved with the
    output (also those glued into one of its lines) are taken out."""
    text = raw.replace("\r\n", "\n").replace("\x00", "")
    if not kernel_lines:
        return text
    text = PRINTK_RE.sub("", text)
    return "\n".join(line for line in text.split("\n") if not PRINTK_LINE_RE.match(line))


class SerialPort:
    """One serial port: socket -> pump thread -> (log file, pipe -> pexpect).
    The log gets every byte as it arrives, flushed, whatever the reader does."""

    def __init__(
        self, name: str, sock: socket.socket, log_path: Path, append: bool = False
    ) -> None:
        self.name = name
        self.sock = sock
        self.log_path = log_path
        self._log = open(log_path, "ab" if append else "wb", buffering=0)  # noqa: SIM115
        # The pump never blocks on the pipe: what does not fit waits in memory.
        self._rfd, self._wfd = os.pipe()
        fcntl.fcntl(self._wfd, fcntl.F_SETFL, os.O_NONBLOCK)
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._wfd, 1031, 1 << 20)  # F_SETPIPE_SZ: 1 MiB
        self._stop_r, self._stop_w = os.pipe()
        self._closed = False
        self._logging = threading.Lock()  # held from recv() to the log write
        self._pump = threading.Thread(target=self._pump_forever, name=f"{name}-pump", daemon=True)
        self._pump.start()
        self.child = pexpect.fdpexpect.fdspawn(self._rfd, encoding=None, timeout=30)
        self.child.maxread = 65536

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
                    with self._logging:
                        try:
                            chunk = self.sock.recv(65536)
                        except OSError:
                            chunk = b""
                        if chunk:
                            self._log.write(chunk)
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
                os.close(self._wfd)  # EOF for pexpect: the port closed

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def sync(self, timeout: float = 2.0) -> None:
        """Wait until everything QEMU has sent is in the log. What the guest
        printed before it finished a command on the other port is then here:
        a printk returns only once QEMU took its bytes."""
        deadline = time.monotonic() + timeout
        while not self._closed and time.monotonic() < deadline:
            with self._logging:
                try:
                    queued = struct.unpack("i", fcntl.ioctl(self.sock, termios.FIONREAD, b"\0" * 4))
                except OSError:
                    return
            if queued[0] == 0:
                return
            time.sleep(0.002)

    def close(self) -> None:
        if self._closed:
            return  # closing twice would close descriptors reused meanwhile
        self._closed = True
        with contextlib.suppress(OSError):
            os.write(self._stop_w, b"x")
        self._pump.join(timeout=5)
        for fd in (self._rfd, self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            self.sock.close()
        self._log.close()


def ready_rest(text: bytes) -> re.Match[bytes] | None:
    """The readiness line's fields from what followed the marker, printk
    records glued anywhere into it taken out; None while it is incomplete."""
    return READY_REST_RE.match(PRINTK_RECORD_RE.sub(b"", text))


class Console:
    """The guest's kernel console (ttyS0) and its command port (ttyS1)."""

    def __init__(
        self,
        sock: socket.socket,
        log_path: Path,
        on_dead: Callable[[], str] | None = None,
        check: Callable[[], str | None] | None = None,
        command_sock: socket.socket | None = None,
        command_log: Path | None = None,
        append: bool = False,
    ) -> None:
        """``sock``, ``log_path``: the kernel console (ttyS0) and its log file.
        ``append``: add to the logs (a guest restored from a snapshot).
        ``command_sock``, ``command_log``: the command port (ttyS1), if QEMU has one.
        ``on_dead``: called when a port closes: the sentence why (QEMU's exit).
        ``check``: called each second of a wait: None while QEMU is alive and
        answering, else the sentence why not (a frozen QEMU ends the wait)."""
        self.log_path = log_path
        self.kernel = SerialPort("console", sock, log_path, append)
        self.commands = (
            SerialPort("commands", command_sock, command_log or log_path, append)
            if command_sock is not None
            else None
        )
        self._on_dead = on_dead
        self._check = check
        self.ready: ReadyInfo | None = None

    @property
    def child(self) -> pexpect.fdpexpect.fdspawn:
        """The kernel console's pexpect reader."""
        return self.kernel.child

    @property
    def shell(self) -> SerialPort:
        """The port the guest's shell loop serves (known once the guest is ready)."""
        if self.ready is not None and self.ready.commands and self.commands is not None:
            return self.commands
        return self.kernel

    def tail(self, lines: int = 40) -> str:
        self.kernel.sync(0.5)
        return tail_of(self.log_path, lines)

    def text(self) -> str:
        """Everything the kernel console printed so far (from its log file)."""
        self.kernel.sync()
        try:
            return self.log_path.read_bytes().decode(errors="replace")
        except OSError:
            return ""

    def _evidence(self) -> dict[str, str]:
        evidence = {f"console tail ({self.log_path})": self.tail()}
        if self.shell is not self.kernel:
            evidence[f"command port tail ({self.shell.log_path})"] = tail_of(
                self.shell.log_path, 15
            )
        return evidence

    def _died(self, doing: str) -> GuestError:
        why = self._on_dead() if self._on_dead is not None else None
        return GuestError(
            f"the guest's console closed while {doing}: {why or 'QEMU exited'}; "
            f"full console log: {self.log_path}",
            evidence=self._evidence(),
        )

    def _expect_on(
        self, port: SerialPort, pattern: bytes | re.Pattern[bytes], timeout: float, doing: str
    ) -> re.Match[bytes]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                port.child.expect(pattern, timeout=max(0.0, min(left, 1.0)))
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
        match = port.child.match
        assert isinstance(match, re.Match)
        return match

    def expect(
        self, pattern: bytes | re.Pattern[bytes], timeout: float, doing: str
    ) -> re.Match[bytes]:
        """Wait for ``pattern`` on the kernel console; GuestError at once when
        QEMU dies or freezes, DeadlineError with the console tail when it never comes."""
        return self._expect_on(self.kernel, pattern, timeout, doing)

    def wait_ready(self, timeout: float) -> ReadyInfo:
        """Wait for init's readiness marker (the shell is then taking commands)."""
        deadline = time.monotonic() + timeout
        doing = "readiness marker (GUESTDBG-READY) from the guest"
        self.expect(READY_MARK, timeout, doing)
        rest = b""
        while (m := ready_rest(rest)) is None:
            self.expect(b"\n", max(0.0, deadline - time.monotonic()), doing)
            rest += (self.kernel.child.before or b"") + b"\n"
        port = m.group(3).decode() if m.group(3) else None
        if port is not None and (port != COMMAND_PORT or self.commands is None):
            port = None  # a shell on a port we do not read: fall back to the console
        self.ready = ReadyInfo(m.group(1).decode(), int(m.group(2)), port)
        return self.ready

    def send(self, text: str) -> None:
        """Type ``text`` into the guest's shell."""
        try:
            self.shell.send(text)
        except OSError:
            raise self._died("sending to it") from None

    def run(self, command: str, timeout: float = 30.0) -> CommandResult:
        """Run ``command`` in the guest shell; return its output and exit status."""
        nonce = secrets.token_hex(4)
        port = self.shell
        self.send(command_line(command, nonce))
        m = self._expect_on(port, end_marker(nonce), timeout, f"end of command {command!r}")
        raw = (port.child.before or b"").decode(errors="replace")
        output = command_output(raw, kernel_lines=port is self.kernel)
        return CommandResult(command, int(m.group(1)), output, raw)

    def close(self) -> None:
        self.kernel.close()
        if self.commands is not None:
            self.commands.close()
