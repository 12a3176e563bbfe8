"""Where a guest's QEMU runs: a :class:`Placement`.

A :class:`~guestdbg.runtime.qemu.Guest` owns a guest's lifecycle (start,
readiness, death and freeze, teardown); a placement owns *where* its QEMU
runs and how it is reached. It starts QEMU and hands the guest a
:class:`Launch`: the process (or what stands for it), the console and
command-port sockets, the connected QMP session, the gdbstub's address and
the command line. It says how it is doing (:meth:`Placement.problems`,
:meth:`Placement.evidence`), where its guests' snapshots live
(:meth:`Placement.snapshot_store`) and what it can show about the KVM below
the guest.

This module is the seam only: the protocols and the data that crosses it.
Two placements exist: :class:`~guestdbg.runtime.local.LocalPlacement` (QEMU
on this machine, Unix sockets; its snapshots in the build cache) and
:class:`~guestdbg.runtime.nested.NestedHost` (QEMU inside a
nested KVM host, reached over TCP). The shape is labgrid's: a driver behind
a protocol, so a further one (a KVM-capable VM sharing this machine's root,
a remote hardware-KVM host) is a new class, not new ``if`` branches.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qemu.qmp.legacy import QEMUMonitorProtocol

from guestdbg.runtime.console import ReadyInfo
from guestdbg.runtime.spec import GuestSpec


class QemuProcess(Protocol):
    """What a Guest needs of its QEMU process: ``subprocess.Popen``'s subset
    (a QEMU in a nested host is a :class:`~guestdbg.runtime.nested.RemoteProcess`)."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill(self) -> None: ...


@dataclass(frozen=True)
class GdbStub:
    """Where gdb reaches the guest: ``target remote <address>``."""

    kind: str
    address: str


@dataclass(frozen=True)
class GuestFiles:
    """The guest's own files a placement writes while it launches QEMU."""

    stderr_log: Path  # QEMU's stderr, headed by its command line
    qmp_log: Path  # every QMP message (qemu.qmp's logger)


@dataclass
class Launch:
    """A started QEMU as a placement hands it to its Guest: everything the
    guest is reached through. ``close()`` releases what the placement made
    for it (the socket directory, the QMP log handler); the Guest ends the
    process and the sockets."""

    proc: QemuProcess
    console: socket.socket
    commands: socket.socket | None
    qmp: QEMUMonitorProtocol
    gdbstub: GdbStub
    argv: list[str]
    started: float  # time.monotonic() when QEMU was started
    _release: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for release in reversed(self._release):
            with contextlib.suppress(Exception):
                release()
        self._release.clear()


class Placement(Protocol):
    """Where guests' QEMUs run (see the module docstring)."""

    @property
    def kind(self) -> str:
        """``local`` or ``nested`` (for reports and ids)."""
        ...

    def describe(self) -> str:
        """One line for reports: where the guest runs."""
        ...

    def check(self, spec: GuestSpec) -> None:
        """HostError (one sentence) when ``spec`` cannot run here."""
        ...

    def launch(self, spec: GuestSpec, files: GuestFiles) -> Launch:
        """Start QEMU for ``spec`` and connect to it; on failure everything it
        started is gone and the error carries QEMU's stderr."""
        ...

    def problems(self) -> list[str]:
        """What is wrong with the placement itself now (empty: healthy)."""
        ...

    def evidence(self) -> dict[str, str]:
        """The placement's own logs for a failure report (console tails)."""
        ...

    def snapshot_store(self) -> SnapshotStore:
        """Where snapshots of this placement's guests are kept."""
        ...

    def kvm_blockirq(self, spec: GuestSpec) -> bool | None:
        """Whether the KVM running a ``spec`` guest has KVM_GUESTDBG_BLOCKIRQ
        (None when the guest does not run under KVM)."""
        ...

    def hardware_breakpoints_only(self) -> bool:
        """Whether scenarios must use hardware breakpoints for their own stops
        (a level below the guest that mishandles software ones)."""
        ...

    def kvm_tracer(self) -> KvmTracer | None:
        """The tracefs of the kernel whose KVM runs the guests, where it can
        be read (a nested host's), else None."""
        ...


class KvmTracer(Protocol):
    """Tracing KVM's events in the kernel that runs the guest (tracefs)."""

    def trace_start(self, events: tuple[str, ...]) -> None: ...
    def trace_stop(self, events: tuple[str, ...]) -> str: ...


class MigratableGuest(Protocol):
    """What a snapshot store and migration need of a running guest (a
    :class:`~guestdbg.runtime.qemu.Guest`)."""

    spec: GuestSpec
    artifacts: Path | None
    ready: ReadyInfo | None
    boot_seconds: float | None

    @property
    def console_log(self) -> Path: ...
    @property
    def command_log(self) -> Path: ...
    def qmp(self, command: str, **args: Any) -> Any: ...
    def stop(self) -> None: ...
    def cont(self) -> None: ...
    def problem(self, ping: bool | None = None) -> str | None: ...
    def send_fd(self, fd: int, name: str) -> None: ...
    def pull_event(self, wait: float, doing: str) -> dict[str, Any] | None: ...
    def death_reason(self, wait: float = 2.0) -> str: ...


class StoredSnapshot(Protocol):
    """One snapshot as its store hands it out."""

    @property
    def key(self) -> str: ...
    @property
    def console_log(self) -> Path: ...
    @property
    def command_log(self) -> Path: ...
    def ready(self) -> ReadyInfo: ...
    def verify(self) -> None: ...


class SnapshotStore(Protocol):
    """Where a placement keeps its guests' snapshots
    (:mod:`guestdbg.runtime.snapshot_store`)."""

    where: str  # how a guest's start names the store: "" or " in the nested host"

    def find(self, key: str) -> StoredSnapshot | None:
        """The complete snapshot of ``key``, or None."""
        ...

    def making(self, key: str, timeout: float) -> contextlib.AbstractContextManager[bool]:
        """Hold the right to make ``key``'s snapshot; yields False when it was
        not had within ``timeout`` (another process is making it)."""
        ...

    def save(self, guest: MigratableGuest, key: str, prepare: Sequence[str]) -> StoredSnapshot:
        """Stop the prepared, ready guest, keep its state and resume it."""
        ...

    def incoming_uri(self, guest: MigratableGuest, snap: StoredSnapshot) -> str:
        """Where the restoring QEMU reads the stream from."""
        ...

    def used(self, snap: StoredSnapshot) -> None:
        """Note that ``snap`` is being restored (for pruning)."""
        ...

    def discard(self, snap: StoredSnapshot, why: str) -> None:
        """Remove an unusable snapshot, so the next guest of its key makes it anew."""
        ...


__all__ = [
    "GdbStub",
    "GuestFiles",
    "KvmTracer",
    "Launch",
    "MigratableGuest",
    "Placement",
    "QemuProcess",
    "SnapshotStore",
    "StoredSnapshot",
]
