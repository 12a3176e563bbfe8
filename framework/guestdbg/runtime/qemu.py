"""One guest: the lifecycle of one QEMU process and everything it is reached through.

A :class:`GuestSpec` says what to boot; a :class:`~guestdbg.runtime.placement.Placement`
says where QEMU runs (this machine by default, or inside a nested KVM host)
and hands the :class:`Guest` its endpoints: the process, its QMP monitor
(qemu.qmp), the serial console (pexpect over a chardev socket; the reader
keeps the complete log) and the gdbstub's address. The Guest owns the
lifecycle only: start, readiness, death and freeze, teardown.

Death and freeze are noticed fast, not by timeouts: a watcher thread wakes
on QEMU's exit, the console's EOF ends every console wait at once, and every
long wait (console, gdb) asks :meth:`Guest.problem` each second — is the
process gone, stopped (SIGSTOP), or not answering QMP? The process never
outlives its ``Guest``: teardown is bounded by a few seconds and runs on
success, error, timeout and Ctrl-C, and a local QEMU gets SIGKILL from the
kernel if this Python process dies without tearing down (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qemu.qmp.legacy import QEMUMonitorProtocol

from guestdbg.errors import DeadlineError, GuestError, InputError
from guestdbg.runtime import rundir
from guestdbg.runtime.console import CommandResult, Console, ReadyInfo, tail_of
from guestdbg.runtime.local import LOCAL, close_qmp
from guestdbg.runtime.placement import (
    GdbStub,
    GuestFiles,
    Launch,
    Placement,
    QemuProcess,
)
from guestdbg.runtime.spec import GuestSpec

QMP_PING_SECONDS = 5.0  # how long a QEMU that does not answer QMP may take
# QMP run states of a guest that will not run again by itself: with
# ``-action reboot=shutdown,shutdown=pause`` (or panic=pause) QEMU keeps such a
# guest paused instead of exiting, so its registers can still be read.
STOPPED_FOR_GOOD = frozenset({"shutdown", "guest-panicked", "internal-error"})


def process_state(pid: int) -> str | None:
    """The state letter of /proc/PID/stat (R, S, D, T stopped, t traced, Z), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split(" ", 1)[0]


@dataclass
class Guest:
    """A running guest. Use as a context manager::

        with Guest(spec) as g:
            print(g.console.run("uname -r").output)

    artifacts: directory for the console log, QEMU's stderr and the QMP log
        (a temporary one, removed on a clean exit, when not given).
    placement: where QEMU runs (:data:`~guestdbg.runtime.local.LOCAL`,
        this machine, by default; a :class:`~guestdbg.runtime.nested.NestedHost`
        runs it inside a nested KVM host).
    """

    spec: GuestSpec
    artifacts: Path | None = None
    placement: Placement = LOCAL
    proc: QemuProcess | None = field(default=None, init=False)
    console: Console = field(init=False)
    gdbstub: GdbStub = field(init=False)
    ready: ReadyInfo | None = field(default=None, init=False)
    _launch: Launch | None = field(default=None, init=False)
    _own_artifacts: bool = field(default=False, init=False)
    argv: list[str] = field(default_factory=list, init=False)
    boot_seconds: float | None = field(default=None, init=False)
    _started: float = field(default=0.0, init=False)
    _listeners: list[Callable[[str], None]] = field(default_factory=list, init=False)
    _dead: str | None = field(default=None, init=False)
    _last_ping: float = field(default=0.0, init=False)

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> Guest:
        if self.proc is not None:
            # Already started (start_guest returns guests started): ``with``
            # then only closes it. Starting again would leave a second QEMU
            # behind (in a nested host, kill the first one) and its QMP open.
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

    @property
    def _qmp(self) -> QEMUMonitorProtocol | None:
        return self._launch.qmp if self._launch is not None else None

    def start(self) -> None:
        """Have the placement launch QEMU and connect QMP and the console
        (does not wait for boot). On failure everything started so far is
        torn down before raising."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def prepare_artifacts(self) -> Path:
        """The artifacts directory, made (a temporary one when none was given)."""
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
        return self.artifacts

    def _start(self) -> None:
        self.spec.validate()
        self.placement.check(self.spec)
        self.prepare_artifacts()
        launch = self.placement.launch(self.spec, GuestFiles(self.stderr_log, self.qmp_log))
        self._launch = launch
        self.proc = launch.proc
        self.argv = launch.argv
        self._started = launch.started
        self.gdbstub = launch.gdbstub
        threading.Thread(target=self._watch, name="qemu-watch", daemon=True).start()
        self.console = Console(
            launch.console,
            self.console_log,
            on_dead=self.death_reason,
            check=self.problem,
            command_sock=launch.commands,
            command_log=self.command_log if launch.commands is not None else None,
            append=self.spec.log_append,
        )

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
        assert status is not None
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
                status = self._qmp.cmd("query-status")
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
            state = str(status.get("status")) if isinstance(status, dict) else ""
            if state in STOPPED_FOR_GOOD:
                return self._stopped_for_good(state)
        return None

    def _stopped_for_good(self, state: str) -> str:
        """The sentence for a guest QEMU keeps paused after it reset, shut
        down or panicked (``-action ...=pause``), with its registers saved."""
        saved = ""
        if self.artifacts is not None:
            path = self.artifacts / f"registers-at-{state}.txt"
            if not path.exists():
                with contextlib.suppress(Exception):
                    path.write_text(self.registers())
            if path.exists():
                saved = f"; registers in {path}"
        return (
            f"the guest stopped by itself (QMP status {state}: it reset, shut down or "
            f"panicked, and QEMU kept it paused for evidence){saved}"
        )

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

    def stopped_by_itself(self) -> bool:
        """Whether QEMU runs but keeps the guest paused for good: it reset,
        shut down or panicked under ``-action ...=pause`` (a nested guest).
        For the judges, such a guest is gone as if QEMU had exited."""
        if not self.running or self._qmp is None:
            return False
        try:
            self._qmp.settimeout(QMP_PING_SECONDS)
            reply: Any = self._qmp.cmd("query-status")
            state = str(reply.get("status"))
        except Exception:
            return False  # not answering is problem()'s to say
        finally:
            with contextlib.suppress(Exception):
                self._qmp.settimeout(30.0)
        return state in STOPPED_FOR_GOOD

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
        if hasattr(self, "console"):
            self.console.close()
        if self._launch is not None:
            close_qmp(self._launch.qmp)
            self._launch.close()
            self._launch = None

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

    def send_fd(self, fd: int, name: str) -> None:
        """Hand QEMU an open file descriptor as ``name`` (SCM_RIGHTS over a
        Unix-socket QMP, then ``getfd``): migration to and from local files."""
        if self._qmp is None:
            raise GuestError("QMP is not connected")
        self._qmp.send_fd_scm(fd)
        self.qmp("getfd", fdname=name)

    def pull_event(self, wait: float, doing: str) -> dict[str, Any] | None:
        """The next QMP event within ``wait`` seconds, or None; GuestError
        when the connection ended (QEMU exited) while ``doing``."""
        if self._qmp is None:
            raise GuestError(f"{doing}: QMP is not connected")
        try:
            event = self._qmp.pull_event(wait=wait)
        except TimeoutError:
            return None
        except Exception as err:  # the connection ended: QEMU exited
            raise GuestError(f"{doing}: {self.death_reason()} ({err.__class__.__name__})") from None
        return dict(event) if event else None

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
