"""One QEMU process running one guest, and everything it is reached through.

A :class:`GuestSpec` says what to boot; :class:`Guest` boots it and owns the
QEMU process, its QMP monitor (qemu.qmp), the serial console (pexpect over a
chardev socket, with QEMU's complete logfile) and the gdbstub socket. All
sockets live in a per-guest directory, so guests in parallel never collide.
The process never outlives its ``Guest``: teardown runs on success, error,
timeout and Ctrl-C, and QEMU gets SIGKILL from the kernel if this Python
process dies without tearing down (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qemu.qmp.legacy import QEMUMonitorProtocol

from guestdbg.errors import DeadlineError, GuestError, HostError
from guestdbg.runtime import host
from guestdbg.runtime.console import CommandResult, Console, ReadyInfo, tail_of
from guestdbg.runtime.process import die_with_parent
from guestdbg.runtime.spec import GuestSpec

_serial = itertools.count(1)


def _log_to_file(logger: logging.Logger, path: Path) -> tuple[logging.Logger, logging.Handler]:
    """Everything ``logger`` says, with timestamps, in ``path`` (and only there)."""
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)s %(message)s", "%H:%M:%S")
    )
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, handler


def _stop_logging_to_file(logging_to: tuple[logging.Logger, logging.Handler]) -> None:
    logger, handler = logging_to
    logger.removeHandler(handler)
    handler.close()
    # The logger object stays in logging's registry; drop its name from it so
    # a long session of guests does not collect them.
    logging.Logger.manager.loggerDict.pop(logger.name, None)


def _listen_unix(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(1)
    return s


@dataclass
class GdbStub:
    """Where gdb reaches the guest: ``target remote <address>``."""

    kind: str
    address: str


@dataclass
class Guest:
    """A running guest. Use as a context manager::

        with Guest(spec) as g:
            print(g.console.run("uname -r").output)

    artifacts: directory for the console log, QEMU's stderr and the QMP log
        (a temporary one, removed on a clean exit, when not given).
    nested_host: for ``accel=kvm-nested``, the running
        :class:`~guestdbg.runtime.nested.NestedHost` whose QEMU runs this guest
        (its console and QMP then arrive over TCP, its gdbstub is forwarded).
    """

    spec: GuestSpec
    artifacts: Path | None = None
    nested_host: Any = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    console: Console = field(init=False)
    gdbstub: GdbStub = field(init=False)
    ready: ReadyInfo | None = field(default=None, init=False)
    _qmp: QEMUMonitorProtocol | None = field(default=None, init=False)
    _sockdir: Path | None = field(default=None, init=False)
    _own_artifacts: bool = field(default=False, init=False)
    _qmp_log: tuple[logging.Logger, logging.Handler] | None = field(default=None, init=False)
    argv: list[str] = field(default_factory=list, init=False)
    boot_seconds: float | None = field(default=None, init=False)

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> Guest:
        try:
            self.start()
            if not self.spec.paused:
                self.wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def console_log(self) -> Path:
        assert self.artifacts is not None
        return self.artifacts / "console.log"

    @property
    def stderr_log(self) -> Path:
        assert self.artifacts is not None
        return self.artifacts / "qemu-stderr.log"

    @property
    def qmp_log(self) -> Path:
        assert self.artifacts is not None
        return self.artifacts / "qmp.log"

    def _check_host(self) -> None:
        self.spec.validate()
        if self.spec.accel == "kvm-nested":
            if self.nested_host is None or not self.nested_host.running:
                raise HostError("accel=kvm-nested needs a running nested KVM host")
            return  # QEMU runs inside the nested host
        binary = shutil.which(self.spec.qemu)
        if not binary:
            raise HostError(
                f"QEMU is not installed: {self.spec.qemu} is not on PATH "
                "(on Debian: apt-get install qemu-system-x86)"
            )
        if self.spec.accel == "kvm":
            kvm = host.probe().kvm
            if not kvm.usable:
                raise HostError(f"accel=kvm was requested but KVM is not usable: {kvm.reason}")

    def start(self) -> None:
        """Launch QEMU and connect QMP and the console (does not wait for boot).
        On failure everything started so far is torn down before raising."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        self._check_host()
        if self.artifacts is None:
            self.artifacts = Path(tempfile.mkdtemp(prefix="guestdbg-"))
            self._own_artifacts = True
        self.artifacts.mkdir(parents=True, exist_ok=True)
        if self.nested_host is not None:
            self.nested_host.start_guest(self)
            return
        # Unix socket paths are limited to 108 bytes: keep them short, in /tmp.
        self._sockdir = Path(tempfile.mkdtemp(prefix="gdbg-", dir="/tmp"))
        qmp_path = self._sockdir / "qmp.sock"
        con_path = self._sockdir / "console.sock"
        if self.spec.gdbstub == "unix":
            gdb_path = self._sockdir / "gdb.sock"
            gdb_chardev = f"socket,id=gdb0,path={gdb_path},server=on,wait=off"
        else:
            gdb_chardev = "socket,id=gdb0,host=127.0.0.1,port=0,server=on,wait=off"
        # qemu.qmp logs every message it sends and receives ("--> ", "<-- ",
        # events included) to its per-connection logger: that is qmp.log.
        nickname = f"guestdbg-{os.getpid()}-{next(_serial)}"
        self._qmp = QEMUMonitorProtocol(str(qmp_path), server=True, nickname=nickname)
        self._qmp_log = _log_to_file(self._qmp._qmp.logger, self.qmp_log)
        con_listener = _listen_unix(con_path)
        self.argv = self.spec.argv(qmp_path, con_path, self.console_log, gdb_chardev)
        started = time.monotonic()
        with open(self.stderr_log, "wb") as err:
            err.write(("$ " + shlex.join(self.argv) + "\n").encode())
            err.flush()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                preexec_fn=die_with_parent,
                start_new_session=True,
            )
        try:
            con_sock = self._accept(con_listener, 20.0, "the serial console")
        finally:
            con_listener.close()
        self.console = Console(con_sock, self.console_log, on_dead=self.exit_reason)
        try:
            self._qmp.accept(timeout=20.0)
        except Exception as err:
            raise self._failed_to_start(f"QMP did not connect ({err.__class__.__name__})") from None
        self._qmp.settimeout(30.0)
        self._started = started
        if self.spec.gdbstub == "unix":
            self.gdbstub = GdbStub("unix", str(self._sockdir / "gdb.sock"))
        else:
            self.gdbstub = GdbStub("tcp", f"127.0.0.1:{self._tcp_gdb_port()}")

    def _accept(self, listener: socket.socket, timeout: float, what: str) -> socket.socket:
        """Accept QEMU's connection, noticing if QEMU exits first."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._failed_to_start(f"QEMU did not connect {what} within {timeout:g}s")
            ready, _, _ = select.select([listener], [], [], min(left, 0.25))
            if ready:
                conn, _ = listener.accept()
                return conn
            if self.proc is not None and self.proc.poll() is not None:
                raise self._failed_to_start(f"QEMU exited with status {self.proc.returncode}")

    def _failed_to_start(self, why: str) -> GuestError:
        stderr = tail_of(self.stderr_log, 20) if self.artifacts else ""
        first = next((ln for ln in stderr.splitlines()[1:] if ln.strip()), "")
        sentence = f"QEMU failed to start: {why}"
        if first:
            sentence += f": {first.strip()}"
        return GuestError(sentence, evidence={f"qemu stderr ({self.stderr_log})": stderr})

    def _tcp_gdb_port(self) -> int:
        for dev in self.qmp("query-chardev"):
            if dev["label"] == "gdb0":
                m = re.search(r":(\d+)(?:,|$)", dev["filename"])
                if m:
                    return int(m.group(1))
        raise GuestError("could not find the gdbstub's TCP port in query-chardev")

    def wait_ready(self, timeout: float | None = None) -> ReadyInfo:
        """Wait for the guest's shell; GuestError with the console tail if it never comes."""
        self.ready = self.console.wait_ready(timeout or self.spec.boot_timeout)
        self.boot_seconds = time.monotonic() - self._started
        return self.ready

    def exit_reason(self) -> str | None:
        """None while QEMU runs; else a sentence with its status and stderr."""
        if self.proc is None or self.proc.poll() is None:
            return None
        stderr = tail_of(self.stderr_log, 5) if self.artifacts else ""
        lines = [ln for ln in stderr.splitlines()[1:] if ln.strip()]
        extra = f" ({lines[-1].strip()})" if lines else ""
        return f"QEMU exited with status {self.proc.returncode}{extra}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """Stop QEMU (QMP quit, then SIGTERM, then SIGKILL) and release everything."""
        if self._qmp is not None and self.running:
            with contextlib.suppress(Exception):
                self._qmp.settimeout(3.0)
                self.qmp("quit")
        if self.proc is not None:
            for sig, grace in ((None, 5.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 10.0)):
                if sig is not None and self.proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        self.proc.send_signal(sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=grace)
                    break
        if self._qmp is not None:
            # After QEMU quits, the first disconnect may re-raise the error that
            # ended the session; the second finishes it (qemu.qmp otherwise
            # complains at garbage collection).
            for _ in range(2):
                try:
                    self._qmp.close()
                    break
                except Exception:  # teardown must not raise
                    continue
            self._qmp = None
        if hasattr(self, "console"):
            self.console.close()
        if self._qmp_log is not None:
            _stop_logging_to_file(self._qmp_log)
            self._qmp_log = None
        if self._sockdir is not None:
            shutil.rmtree(self._sockdir, ignore_errors=True)
            self._sockdir = None

    def discard_artifacts(self) -> None:
        """Remove a temporary artifacts directory (call after a clean run)."""
        if self._own_artifacts and self.artifacts is not None:
            shutil.rmtree(self.artifacts, ignore_errors=True)

    # -- QMP -------------------------------------------------------------
    def qmp(self, command: str, **args: Any) -> Any:
        """Execute a QMP command; logged to qmp.log; GuestError on failure."""
        if self._qmp is None:
            raise GuestError(f"QMP {command}: the guest is not running")
        try:
            reply = self._qmp.cmd(command, **args)
        except Exception as err:
            self._qmp._qmp.logger.error("%s failed: %r", command, err)
            reason = self.exit_reason()
            raise GuestError(
                f"QMP {command} failed: {err}" + (f"; {reason}" if reason else ""),
                evidence={"console tail": self.console.tail()} if hasattr(self, "console") else {},
            ) from None
        return reply

    def stop(self) -> None:
        self.qmp("stop")

    def cont(self) -> None:
        self.qmp("cont")

    def inject_nmi(self) -> None:
        self.qmp("inject-nmi")

    def status(self) -> str:
        return str(self.qmp("query-status")["status"])

    def hmp(self, command: str) -> str:
        return str(self.qmp("human-monitor-command", **{"command-line": command}))

    def registers(self) -> str:
        """``info registers`` for every vCPU (failure evidence)."""
        return self.hmp("info registers -a")

    # -- the guest shell ---------------------------------------------------
    def run(self, command: str, timeout: float = 30.0) -> CommandResult:
        return self.console.run(command, timeout)

    def shell_command(self) -> str:
        """The QEMU command line, quoted for a shell (printed by repro)."""
        return shlex.join(self.argv)


__all__ = ["DeadlineError", "Guest"]
