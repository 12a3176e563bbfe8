"""QEMU on this machine: :class:`LocalPlacement` (the default placement,
:data:`LOCAL`), and the launching helpers every placement shares (accepting
QEMU's connections while noticing its exit, the QMP server and its log, the
sentence for a QEMU that did not start)."""

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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qemu.qmp.legacy import QEMUMonitorProtocol

from guestdbg.errors import GuestError, HostError
from guestdbg.runtime import host, rundir
from guestdbg.runtime.console import tail_of
from guestdbg.runtime.placement import (
    GdbStub,
    GuestFiles,
    KvmTracer,
    Launch,
    QemuProcess,
    SnapshotStore,
)
from guestdbg.runtime.process import die_with_parent
from guestdbg.runtime.snapshot_store import CacheStore
from guestdbg.runtime.spec import GuestSpec

_serial = itertools.count(1)
CONNECT_TIMEOUT = 20.0  # a local QEMU connects its sockets within a second


def log_to_file(logger: logging.Logger, path: Path) -> Callable[[], None]:
    """Everything ``logger`` says, with timestamps, in ``path`` (and only
    there); returns the call that stops it."""
    handler = logging.FileHandler(path, mode="w")
    handler.setFormatter(
        logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)s %(message)s", "%H:%M:%S")
    )
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    def stop() -> None:
        logger.removeHandler(handler)
        handler.close()
        # The logger stays in logging's registry; drop its name so a long
        # session of guests does not collect them.
        logging.Logger.manager.loggerDict.pop(logger.name, None)

    return stop


def qmp_server(
    address: str | tuple[str, int], files: GuestFiles, tag: str
) -> tuple[QEMUMonitorProtocol, Callable[[], None]]:
    """A QMP server QEMU connects to, logging to ``files.qmp_log`` (qemu.qmp
    logs every message, "--> "/"<-- ", events included)."""
    nickname = f"guestdbg-{os.getpid()}-{tag}{next(_serial)}"
    qmp = QEMUMonitorProtocol(address, server=True, nickname=nickname)
    return qmp, log_to_file(qmp._qmp.logger, files.qmp_log)


def close_qmp(qmp: QEMUMonitorProtocol) -> None:
    """Close a QMP session whatever its state; never raises. After QEMU quits
    the first disconnect may re-raise the error that ended the session, the
    second finishes it (qemu.qmp otherwise complains at garbage collection)."""
    for _ in range(2):
        try:
            qmp.close()
            return
        except Exception:  # teardown must not raise
            continue


def failed_to_start(why: str, stderr_log: Path) -> GuestError:
    """The sentence for a QEMU that did not come up, with its stderr."""
    stderr = tail_of(stderr_log, 20) if stderr_log.exists() else ""
    first = next((ln for ln in stderr.splitlines()[1:] if ln.strip()), "")
    sentence = f"QEMU failed to start: {why}"
    if first:
        sentence += f": {first.strip()}"
    return GuestError(sentence, evidence={f"qemu stderr ({stderr_log})": stderr})


def accept(
    listener: socket.socket, timeout: float, what: str, proc: QemuProcess, stderr_log: Path
) -> socket.socket:
    """Accept QEMU's connection to ``listener``, noticing if QEMU exits first."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise failed_to_start(f"QEMU did not connect {what} within {timeout:g}s", stderr_log)
        ready, _, _ = select.select([listener], [], [], min(left, 0.25))
        if ready:
            conn, _ = listener.accept()
            return conn
        if proc.poll() is not None:
            raise failed_to_start(f"QEMU exited with status {proc.returncode}", stderr_log)


def accept_ports(
    console: socket.socket,
    commands: socket.socket | None,
    timeout: float,
    proc: QemuProcess,
    stderr_log: Path,
) -> tuple[socket.socket, socket.socket | None]:
    """QEMU's connections to the console and command-port listeners (which
    are closed either way), noticing if QEMU exits first."""
    try:
        con = accept(console, timeout, "the serial console", proc, stderr_log)
        cmd = accept(commands, timeout, "the command port", proc, stderr_log) if commands else None
    finally:
        console.close()
        if commands:
            commands.close()
    return con, cmd


def accept_qmp(qmp: QEMUMonitorProtocol, timeout: float, stderr_log: Path) -> None:
    """QEMU's QMP connection, or the sentence why it did not come."""
    try:
        qmp.accept(timeout=timeout)
    except Exception as err:
        raise failed_to_start(
            f"QMP did not connect ({err.__class__.__name__})", stderr_log
        ) from None
    qmp.settimeout(30.0)


def listen_unix(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(1)
    return s


def end_process(proc: QemuProcess) -> None:
    """SIGKILL and reap (a launch that failed half-way)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, OSError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5.0)


class LocalPlacement:
    """QEMU on this machine: its sockets in a per-guest directory of the run
    directory (:mod:`guestdbg.runtime.rundir`), so guests in parallel never
    collide; snapshots in the build cache."""

    kind = "local"

    def describe(self) -> str:
        return "this machine"

    def check(self, spec: GuestSpec) -> None:
        binary = shutil.which(spec.qemu)
        if not binary:
            raise HostError(
                f"QEMU is not installed: {spec.qemu} is not on PATH "
                "(on Debian: apt-get install qemu-system-x86)"
            )
        if spec.accel == "kvm":
            kvm = host.probe().kvm
            if not kvm.usable:
                raise HostError(f"accel=kvm was requested but KVM is not usable: {kvm.reason}")

    def launch(self, spec: GuestSpec, files: GuestFiles) -> Launch:
        # Unix socket paths are limited to 108 bytes: the run directory is in /tmp.
        sockdir = rundir.mkdtemp("sock-")
        qmp_path = sockdir / "qmp.sock"
        con_path = sockdir / "console.sock"
        if spec.gdbstub == "unix":
            gdb_chardev = f"socket,id=gdb0,path={sockdir / 'gdb.sock'},server=on,wait=off"
        else:
            gdb_chardev = "socket,id=gdb0,host=127.0.0.1,port=0,server=on,wait=off"
        release: list[Callable[[], None]] = [lambda: shutil.rmtree(sockdir, ignore_errors=True)]
        proc: subprocess.Popen[bytes] | None = None
        qmp: QEMUMonitorProtocol | None = None
        try:
            qmp, stop_log = qmp_server(str(qmp_path), files, "")
            release.append(stop_log)
            cmd_path = sockdir / "commands.sock" if spec.command_port else None
            con_listener = listen_unix(con_path)
            cmd_listener = listen_unix(cmd_path) if cmd_path else None
            argv = spec.argv(qmp_path, con_path, None, gdb_chardev, cmd_path, None)
            started = time.monotonic()
            with open(files.stderr_log, "wb") as stderr:
                stderr.write(("$ " + shlex.join(argv) + "\n").encode())
                stderr.flush()
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=stderr,
                    stderr=stderr,
                    preexec_fn=die_with_parent,
                    start_new_session=True,
                )
            con, cmd = accept_ports(
                con_listener, cmd_listener, CONNECT_TIMEOUT, proc, files.stderr_log
            )
            accept_qmp(qmp, CONNECT_TIMEOUT, files.stderr_log)
            if spec.gdbstub == "unix":
                stub = GdbStub("unix", str(sockdir / "gdb.sock"))
            else:
                stub = GdbStub("tcp", f"127.0.0.1:{_tcp_gdb_port(qmp)}")
        except BaseException:
            if proc is not None:
                end_process(proc)
            if qmp is not None:
                close_qmp(qmp)
            for r in reversed(release):
                r()
            raise
        return Launch(proc, con, cmd, qmp, stub, argv, started, release)

    def problems(self) -> list[str]:
        return []

    def evidence(self) -> dict[str, str]:
        return {}

    def snapshot_store(self) -> SnapshotStore:
        return CacheStore()

    def kvm_blockirq(self, spec: GuestSpec) -> bool | None:
        return host.probe().kvm.blockirq if spec.accel == "kvm" else None

    def hardware_breakpoints_only(self) -> bool:
        # KVM in a VM whose CPU TCG emulates (guestdbg vm-run here): the TCG
        # below mishandles a KVM guest's int3 as it does a nested host's,
        # unless vm-run says its outer QEMU carries the fix.
        if not (host.machine_kind().emulated and host.probe().kvm.usable):
            return False
        outer = host.vm_outer()
        return outer is None or "sw-breakpoints" not in outer.fixed

    def kvm_tracer(self) -> KvmTracer | None:
        return None  # this machine's tracefs: not read (yet)


def _tcp_gdb_port(qmp: QEMUMonitorProtocol) -> int:
    chardevs: Any = qmp.cmd("query-chardev")
    for dev in chardevs:
        if dev["label"] == "gdb0":
            m = re.search(r":(\d+)(?:,|$)", dev["filename"])
            if m:
                return int(m.group(1))
    raise GuestError("could not find the gdbstub's TCP port in query-chardev")


LOCAL = LocalPlacement()

__all__ = [
    "LOCAL",
    "LocalPlacement",
    "accept",
    "accept_ports",
    "accept_qmp",
    "close_qmp",
    "end_process",
    "failed_to_start",
]
