"""Where snapshots of booted guests are kept: a :class:`SnapshotStore`.

A placement names its store (:meth:`~guestdbg.runtime.placement.Placement.snapshot_store`):

- :class:`CacheStore`, for guests on this machine: entries in the build cache
  (:mod:`guestdbg.images.cache`) as ``snapshot-<key>/``: ``state`` (QEMU's
  migration stream), ``console.log`` and ``commands.log`` (the serial logs up
  to the snapshot), ``snapshot.json`` (the key's fields, the guest's
  readiness line, the state's size and sha256) and ``.complete``. Making one
  takes the entry's flock (parallel workers wait instead of making it
  twice); the cache keeps the most recently used (:func:`prune`).
- :class:`HostRamStore`, for guests inside a nested KVM host: the stream in
  that host's RAM (``migrate exec:cat > FILE`` runs there), the serial logs
  on this machine. It lives as long as the host, which is booted once per
  session, so nothing of it outlives the session.

The protocols are :class:`~guestdbg.runtime.placement.SnapshotStore` and
:class:`~guestdbg.runtime.placement.StoredSnapshot`. The policy that uses
them (restore, else boot and save) is
:func:`guestdbg.runtime.start.start_guest`, the same for every store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import json
import logging
import os
import secrets
import shlex
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from guestdbg.errors import GuestdbgError, GuestError, SnapshotError
from guestdbg.images.cache import cache_dir, keep_recent, mark_complete
from guestdbg.runtime.console import ReadyInfo
from guestdbg.runtime.migration import send_file, write_state
from guestdbg.runtime.placement import MigratableGuest, StoredSnapshot
from guestdbg.runtime.snapshot_key import file_digest, key_fields


class HostShell(Protocol):
    """What a store in a nested host's RAM needs of that host
    (:class:`~guestdbg.runtime.nested.NestedHost`)."""

    artifacts: Path
    snapshots: dict[str, HostSnapshot]

    def run(self, command: str, timeout: float = 60.0) -> str: ...


log = logging.getLogger("guestdbg.snapshot")

PREFIX = "snapshot-"
STATE = "state"
META = "snapshot.json"
# Every rebuilt kernel is a new key (30-90 MB each): the cache keeps the most
# recently used snapshots, and none used within the last hour is removed.
KEEP = 8
KEEP_ENV = "GUESTDBG_SNAPSHOTS_KEPT"
USED = "used"
GRACE_SECONDS = 3600.0


# -- the build cache ----------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """One snapshot in the cache (complete: made and marked)."""

    path: Path
    made_ns: int = 0  # the mtime of its .complete: which making of the key this is

    @property
    def key(self) -> str:
        return self.path.name.removeprefix(PREFIX)

    @property
    def state(self) -> Path:
        return self.path / STATE

    @property
    def console_log(self) -> Path:
        return self.path / "console.log"

    @property
    def command_log(self) -> Path:
        return self.path / "commands.log"

    def meta(self) -> dict[str, Any]:
        """The metadata; SnapshotError when it is unreadable or incomplete."""
        try:
            meta = json.loads((self.path / META).read_text())
            ReadyInfo(**meta["ready"])
            int(meta["state_size"]), str(meta["state_sha256"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise SnapshotError(f"its metadata {self.path / META} is unreadable ({err})") from None
        return dict(meta)

    def ready(self) -> ReadyInfo:
        return ReadyInfo(**self.meta()["ready"])

    def verify(self) -> None:
        """SnapshotError unless the state file is the one the metadata describes
        (size, then sha256 once per process: a complete entry never changes)."""
        meta = self.meta()
        try:
            size = self.state.stat().st_size
        except OSError as err:
            raise SnapshotError(f"its state {self.state} is unreadable ({err.strerror})") from None
        if size != meta["state_size"]:
            raise SnapshotError(
                f"its state {self.state} has {size} bytes, not the {meta['state_size']} it was "
                "made with"
            )
        try:
            digest = file_digest(self.state)
        except OSError as err:
            raise SnapshotError(f"its state {self.state} is unreadable ({err.strerror})") from None
        if digest != meta["state_sha256"]:
            raise SnapshotError(f"its state {self.state} does not match its sha256 (corrupt)")


def entry_path(key: str) -> Path:
    return cache_dir() / f"{PREFIX}{key}"


def _made_ns(path: Path) -> int:
    try:
        return (path / ".complete").stat().st_mtime_ns
    except OSError:
        return 0


def find(key: str) -> Snapshot | None:
    """The complete snapshot of ``key`` in the cache, or None."""
    path = entry_path(key)
    made = _made_ns(path)
    return Snapshot(path, made) if made else None


@contextlib.contextmanager
def entry_lock(key: str, timeout: float) -> Iterator[bool]:
    """Hold the entry's lock; yields False when it was not had within
    ``timeout`` (another process is making the snapshot and takes too long)."""
    path = cache_dir() / f"{PREFIX}{key}.lock"
    with open(path, "w") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                yield False
                return
            # flock has no timeout: poll. The holder is booting a guest (seconds).
            time.sleep(0.05)
        yield True


def _remove_entry(path: Path, why: str | None = None) -> bool:
    """Rename, then remove: a guest restoring from it right now keeps its open file."""
    gone = path.with_name(f"{path.name}.discarded-{secrets.token_hex(4)}")
    try:
        path.rename(gone)
    except OSError:
        return False
    if why:
        with contextlib.suppress(OSError):
            (gone / "discarded-because").write_text(why + "\n")
    shutil.rmtree(gone, ignore_errors=True)
    return True


def discard(snapshot: Snapshot, why: str) -> None:
    """Remove an unusable snapshot, so the next guest of its key makes it anew."""
    with entry_lock(snapshot.key, 10.0) as locked:
        if not locked or _made_ns(snapshot.path) != snapshot.made_ns:
            return  # being made, or already made anew by another process
        _remove_entry(snapshot.path, why)


def last_used(path: Path) -> float:
    """When an entry was last restored (or made), as a timestamp."""
    times = []
    for name in (USED, ".complete"):
        with contextlib.suppress(OSError):
            times.append((path / name).stat().st_mtime)
    return max(times, default=0.0)


def kept() -> int:
    """How many snapshots the cache keeps (``GUESTDBG_SNAPSHOTS_KEPT``, default 8)."""
    value = os.environ.get(KEEP_ENV, "")
    return int(value) if value.isdigit() else KEEP


def prune(keep: int | None = None, grace: float = GRACE_SECONDS) -> list[str]:
    """Remove the snapshots beyond the ``keep`` most recently used, except
    any used within ``grace`` seconds or being made; one log line each.
    Returns the keys removed."""
    keep = kept() if keep is None else keep
    entries = [
        p
        for p in cache_dir().glob(f"{PREFIX}*")
        if p.is_dir() and "." not in p.name and _made_ns(p)
    ]

    def remove(path: Path) -> bool:
        snap = Snapshot(path, _made_ns(path))
        with entry_lock(snap.key, 0.0) as locked:
            if not locked:
                return False  # being made anew right now
            size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
            used = last_used(path)
            if not _remove_entry(path):
                return False
        log.info(
            "removed snapshot %s (%d MB, last used %s): the cache keeps the %d most "
            "recently used (%s)",
            snap.key,
            size >> 20,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(used)),
            keep,
            KEEP_ENV,
        )
        return True

    return [
        p.name.removeprefix(PREFIX) for p in keep_recent(entries, keep, grace, last_used, remove)
    ]


def save(
    guest: MigratableGuest, key: str, prepare: Sequence[str], timeout: float = 60.0
) -> Snapshot:
    """Stop a prepared, ready guest, write its state into the cache entry of
    ``key`` and resume it (the caller holds the entry's lock). SnapshotError
    when QEMU cannot write it; the guest runs on either way."""
    assert guest.ready is not None and guest.artifacts is not None
    path = entry_path(key)
    # A half-made entry, or a discarded one, of a process killed meanwhile.
    for stale in [path, *path.parent.glob(f"{path.name}.discarded-*")]:
        shutil.rmtree(stale, ignore_errors=True)
    path.mkdir(parents=True)
    snap = Snapshot(path)
    fields = key_fields(guest.spec, prepare)
    started = time.monotonic()
    guest.stop()
    try:
        write_state(guest, timeout, "writing the snapshot", local_file=snap.state)
        # Stopped: nothing more reaches the logs until cont.
        shutil.copyfile(guest.console_log, snap.console_log)
        shutil.copyfile(guest.command_log, snap.command_log)
        meta = {
            "key": key,
            "fields": fields,
            "ready": dataclasses.asdict(guest.ready),
            "state_size": snap.state.stat().st_size,
            "state_sha256": file_digest(snap.state),
            "made": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "boot_seconds": guest.boot_seconds,
            "save_seconds": round(time.monotonic() - started, 3),
        }
        (path / META).write_text(json.dumps(meta, indent=2) + "\n")
        mark_complete(path)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    finally:
        if guest.problem(ping=False) is None:
            guest.cont()
    return Snapshot(path, _made_ns(path))


class CacheStore:
    """Snapshots of guests on this machine, in the build cache."""

    where = ""

    def find(self, key: str) -> StoredSnapshot | None:
        return find(key)

    def making(self, key: str, timeout: float) -> contextlib.AbstractContextManager[bool]:
        return entry_lock(key, timeout)

    def save(self, guest: MigratableGuest, key: str, prepare: Sequence[str]) -> StoredSnapshot:
        snap = save(guest, key, prepare)
        prune()
        return snap

    def incoming_uri(self, guest: MigratableGuest, snap: StoredSnapshot) -> str:
        assert isinstance(snap, Snapshot)
        return send_file(guest, snap.state, write=False)

    def used(self, snap: StoredSnapshot) -> None:
        assert isinstance(snap, Snapshot)
        with contextlib.suppress(OSError):  # when it was last used, for prune()
            (snap.path / USED).touch()

    def discard(self, snap: StoredSnapshot, why: str) -> None:
        assert isinstance(snap, Snapshot)
        discard(snap, why)


# -- a nested KVM host's RAM ------------------------------------------------------


@dataclass(frozen=True)
class HostSnapshot:
    """A kvm-nested guest's snapshot, kept inside the nested KVM host that
    runs it: the stream in the host's RAM (``state`` is a path there), the
    serial logs on this machine."""

    key: str
    state: str
    console_log: Path
    command_log: Path
    ready_info: ReadyInfo
    host: HostShell = dataclasses.field(compare=False, repr=False)

    def ready(self) -> ReadyInfo:
        return self.ready_info

    def verify(self) -> None:
        """SnapshotError when the stream is gone from the host (this process
        wrote it, so it is what it was when it is there)."""
        try:
            self.host.run(f"test -s {shlex.quote(self.state)}")
        except GuestError:
            raise SnapshotError(f"its stream {self.state} is gone from the nested host") from None


@dataclass(frozen=True)
class HostRamStore:
    """Snapshots of a nested KVM host's guests, in that host's RAM."""

    host: HostShell
    where = " in the nested host"

    def find(self, key: str) -> StoredSnapshot | None:
        return self.host.snapshots.get(key)

    @contextlib.contextmanager
    def making(self, key: str, timeout: float) -> Iterator[bool]:
        yield True  # one process uses a nested host

    def save(self, guest: MigratableGuest, key: str, prepare: Sequence[str]) -> StoredSnapshot:
        """Write the guest's state to a file in the nested host's RAM
        (``migrate exec:cat > FILE`` runs there)."""
        assert guest.ready is not None and guest.artifacts is not None
        state = f"/tmp/guestdbg-snapshot-{key}"
        logs = Path(self.host.artifacts) / "snapshots" / key
        guest.stop()
        try:
            write_state(
                guest,
                120.0,
                "writing the snapshot in the nested host",
                uri=f"exec:cat > {shlex.quote(state)}",
            )
            try:
                logs.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(guest.console_log, logs / "console.log")
                shutil.copyfile(guest.command_log, logs / "commands.log")
            except OSError as err:
                raise SnapshotError(f"cannot keep its serial logs ({err})") from None
            snap = HostSnapshot(
                key, state, logs / "console.log", logs / "commands.log", guest.ready, self.host
            )
            self.host.snapshots[key] = snap
            return snap
        finally:
            if guest.problem(ping=False) is None:
                guest.cont()

    def incoming_uri(self, guest: MigratableGuest, snap: StoredSnapshot) -> str:
        assert isinstance(snap, HostSnapshot)
        return f"exec:cat {shlex.quote(snap.state)}"

    def used(self, snap: StoredSnapshot) -> None:
        pass

    def discard(self, snap: StoredSnapshot, why: str) -> None:
        assert isinstance(snap, HostSnapshot)
        self.host.snapshots.pop(snap.key, None)
        with contextlib.suppress(GuestdbgError):
            self.host.run(f"rm -f {shlex.quote(snap.state)}")
