"""One QEMU process running one guest, and everything it is reached through.

A :class:`GuestSpec` says what to boot; :class:`Guest` boots it and owns the
QEMU process, its QMP monitor (qemu.qmp), the serial console (pexpect over a
chardev socket, with QEMU's complete logfile) and the gdbstub socket. All
sockets live in a per-guest directory of the run directory
(:mod:`guestdbg.runtime.rundir`), so guests in parallel never collide.

Death and freeze are noticed fast, not by timeouts: a watcher thread wakes
on QEMU's exit, the console's EOF ends every console wait at once, and every
long wait (console, gdb) asks :meth:`Guest.problem` each second — is the
process gone, stopped (SIGSTOP), or not answering QMP? The process never
outlives its ``Guest``: teardown is bounded by a few seconds and runs on
success, error, timeout and Ctrl-C, and QEMU gets SIGKILL from the kernel if
this Python process dies without tearing down (PR_SET_PDEATHSIG).
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
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qemu.qmp.legacy import QEMUMonitorProtocol

from guestdbg.errors import DeadlineError, GuestError, HostError, InputError
from guestdbg.runtime import host, rundir
from guestdbg.runtime.console import CommandResult, Console, ReadyInfo, tail_of
from guestdbg.runtime.process import die_with_parent
from guestdbg.runtime.spec import GuestSpec

_serial = itertools.count(1)
QMP_PING_SECONDS = 5.0  # how long a QEMU that does not answer QMP may take


def process_state(pid: int) -> str | None:
    """The state letter of /proc/PID/stat (R, S, D, T stopped, t traced, Z), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split(" ", 1)[0]


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
    _listeners: list[Callable[[str], None]] = field(default_factory=list, init=False)
    _dead: str | None = field(default=None, init=False)
    _last_ping: float = field(default=0.0, init=False)

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> Guest:
        if self.proc is not None:
            # Already started (snapshot.start_guest returns guests started):
            # ``with`` then only closes it. Starting again would leave a second
            # QEMU behind (in a nested host, kill the first one) and its QMP open.
            return self
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
    def command_log(self) -> Path:
        """The command port (ttyS1): every command the framework ran and its output."""
        assert self.artifacts is not None
        return self.artifacts / "commands.log"

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
            self.artifacts = rundir.mkdtemp("guest-")
            self._own_artifacts = True
        try:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            (self.artifacts / ".guestdbg-writable").touch()
            (self.artifacts / ".guestdbg-writable").unlink()
        except OSError as err:
            raise InputError(
                f"cannot write the guest's artifacts to {self.artifacts}: {err.strerror or err}"
            ) from None
        if self.nested_host is not None:
            self.nested_host.start_guest(self)
            return
        # Unix socket paths are limited to 108 bytes: the run directory is in /tmp.
        self._sockdir = rundir.mkdtemp("sock-")
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
        cmd_path = self._sockdir / "commands.sock" if self.spec.command_port else None
        con_listener = _listen_unix(con_path)
        cmd_listener = _listen_unix(cmd_path) if cmd_path else None
        self.argv = self.spec.argv(qmp_path, con_path, None, gdb_chardev, cmd_path, None)
        started = time.monotonic()
        with open(self.stderr_log, "wb") as stderr:
            stderr.write(("$ " + shlex.join(self.argv) + "\n").encode())
            stderr.flush()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                preexec_fn=die_with_parent,
                start_new_session=True,
            )
        threading.Thread(target=self._watch, name="qemu-watch", daemon=True).start()
        try:
            con_sock = self._accept(con_listener, 20.0, "the serial console")
            cmd_sock = (
                self._accept(cmd_listener, 20.0, "the command port") if cmd_listener else None
            )
        finally:
            con_listener.close()
            if cmd_listener:
                cmd_listener.close()
        self.console = Console(
            con_sock,
            self.console_log,
            on_dead=self.death_reason,
            check=self.problem,
            command_sock=cmd_sock,
            command_log=self.command_log,
            append=self.spec.log_append,
        )
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

    # -- death and freeze --------------------------------------------------
    def _watch(self) -> None:
        """Watcher thread: wakes when QEMU exits and tells every listener."""
        proc = self.proc
        if proc is None:
            return
        proc.wait()
        reason = self.exit_reason() or f"QEMU exited with status {proc.returncode}"
        self._dead = reason
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):
                listener(reason)

    def on_exit(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(reason)`` (from another thread) when QEMU exits."""
        self._listeners.append(listener)
        if self._dead is not None:
            listener(self._dead)

    def exit_reason(self) -> str | None:
        """None while QEMU runs; else a sentence with its status and stderr."""
        if self.proc is None or self.proc.poll() is None:
            return None
        stderr = tail_of(self.stderr_log, 5) if self.artifacts else ""
        lines = [ln for ln in stderr.splitlines()[1:] if ln.strip()]
        extra = f" ({lines[-1].strip()})" if lines else ""
        status = self.proc.returncode
        how = f"killed by signal {-status}" if status < 0 else f"exited with status {status}"
        return f"QEMU (pid {self.proc.pid}) {how}{extra}"

    def death_reason(self, wait: float = 2.0) -> str:
        """Why the guest's connections closed: QEMU's exit (waited for up to
        ``wait`` seconds, the console's EOF can come first), or that it lives on."""
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=wait)
        return self.exit_reason() or "QEMU closed the connection but is still running"

    def problem(self, ping: bool | None = None) -> str | None:
        """None while QEMU is alive and answering; else the sentence why not:
        exited (status, stderr), stopped (SIGSTOP: process state T), or not
        answering QMP within QMP_PING_SECONDS. ``ping``: ask QMP (default:
        when the last ping is QMP_PING_SECONDS old)."""
        if self.proc is None:
            return "QEMU was never started"
        reason = self.exit_reason()
        if reason:
            return reason
        state = process_state(self.proc.pid)
        if state in ("T", "t"):
            return (
                f"QEMU (pid {self.proc.pid}) is stopped (process state {state}: SIGSTOP or a "
                "tracer): the guest is frozen"
            )
        now = time.monotonic()
        if ping is None:
            ping = now - self._last_ping >= QMP_PING_SECONDS
        if ping and self._qmp is not None:
            self._last_ping = now
            try:
                self._qmp.settimeout(QMP_PING_SECONDS)
                self._qmp.cmd("query-status")
            except Exception as err:
                exited = self.exit_reason()  # it may have exited during the ping
                if exited:
                    return exited
                return (
                    f"QEMU (pid {self.proc.pid}, process state {state}) does not answer QMP "
                    f"(query-status: {err.__class__.__name__} within {QMP_PING_SECONDS:g}s): "
                    "the guest is frozen"
                )
            finally:
                with contextlib.suppress(Exception):
                    self._qmp.settimeout(30.0)
        return None

    def healthy(self) -> str | None:
        """For reuse between tests: None when QEMU is alive, answers QMP and the
        guest runs (no debugger holds it); else the sentence why not."""
        why = self.problem(ping=True)
        if why:
            return why
        try:
            status = self.status()
        except GuestError as err:
            return err.message
        return None if status == "running" else f"the guest is not running (QMP status {status})"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """Stop QEMU and release everything, in a few seconds whatever its state:
        QMP quit for a healthy QEMU, SIGKILL for a stopped, frozen or stubborn one."""
        if self.proc is not None and self.proc.poll() is None:
            frozen = process_state(self.proc.pid) in ("T", "t")
            if not frozen and self._qmp is not None:
                with contextlib.suppress(Exception):
                    self._qmp.settimeout(2.0)
                    self._qmp.cmd("quit")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=3.0)
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=5.0)
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
            reason = self.exit_reason() or self.problem(ping=False)
            raise GuestError(
                f"QMP {command} failed: {err!r}" + (f"; {reason}" if reason else ""),
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
        """``info registers`` for every vCPU (failure evidence; a few seconds at most)."""
        if self._qmp is not None:
            self._qmp.settimeout(QMP_PING_SECONDS)
        try:
            return self.hmp("info registers -a")
        finally:
            if self._qmp is not None:
                with contextlib.suppress(Exception):
                    self._qmp.settimeout(30.0)

    # -- the guest shell ---------------------------------------------------
    def run(self, command: str, timeout: float = 30.0) -> CommandResult:
        return self.console.run(command, timeout)

    def proc_version(self) -> str:
        """What the running kernel says it is (/proc/version)."""
        return self.run("cat /proc/version").output.strip()

    def shell_command(self) -> str:
        """The QEMU command line, quoted for a shell (printed by repro)."""
        return shlex.join(self.argv)


__all__ = ["DeadlineError", "Guest"]
