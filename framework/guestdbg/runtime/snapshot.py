"""Guests that start from a snapshot of a booted guest instead of booting.

A snapshot is QEMU's own migration stream of a guest that booted, ran the
preparation commands (the pytest plugin loads the test module) and was
stopped at its shell, written to a file with ``migrate fd:…``. A guest
starts from it as a new QEMU with the same machine and ``-incoming defer``:
the file is handed over by QMP (``getfd``, ``migrate-incoming fd:…``),
QEMU loads it, ``cont`` resumes the guest, and one shell command proves the
shell answers (scripts/bench: 0.38 s where a boot to the shell took 2.3 s;
most of it is TCG translating the guest's code afresh for that command).

One snapshot per image x QEMU binary x machine: the key hashes the kernel
and initramfs contents, the QEMU binary (path, version and contents), the
whole QEMU command line but its per-guest paths (accelerator, vCPUs, memory,
-cpu, kernel command line, extra arguments, …), the preparation commands
and, under KVM, the host kernel and CPU. Anything else is another snapshot,
so one is never restored by another QEMU or into another machine. Entries
live in the build cache (:mod:`guestdbg.images.cache`) as
``snapshot-<key>/``: ``state`` (the stream), ``console.log`` and
``commands.log`` (the serial logs up to the snapshot), ``snapshot.json``
(the key's fields, the guest's readiness line, the state's size and
sha256) and ``.complete``.

The first guest of a key is booted as always; once prepared, it is stopped,
migrated to the cache and resumed, so making a snapshot costs no boot of its
own. A restored guest is an ordinary :class:`Guest`: its console log is the
snapshot's followed by its own (QEMU appends), so it reads as one session,
and gdb attaches as to any guest. A snapshot that cannot be used (unreadable
metadata, a state whose checksum does not match, a stream QEMU refuses, a
guest that does not answer after the load) is removed and the guest booted
instead, with one log line (logger ``guestdbg.snapshot``) saying why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import functools
import hashlib
import json
import logging
import os
import platform
import secrets
import shlex
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from guestdbg.errors import DeadlineError, GuestdbgError, GuestError
from guestdbg.images.cache import cache_dir, content_key, mark_complete
from guestdbg.runtime import host, rundir
from guestdbg.runtime.console import ReadyInfo
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.spec import GuestSpec

log = logging.getLogger("guestdbg.snapshot")

# Guests whose QEMU runs on this machine (QMP over a Unix socket, for the
# state file's descriptor); others boot.
ACCELS = ("tcg", "kvm")
# Bump when what a snapshot holds changes in a way the key does not show.
RECIPE = "1"
PREFIX = "snapshot-"
STATE = "state"
META = "snapshot.json"
# The migration stream is written at the speed of the disk, not QEMU's
# default 128 MiB/s cap (which is meant for live migration over a network).
SAVE_BANDWIDTH = 1 << 40
# Every rebuilt kernel is a new key (30-90 MB each): the cache keeps the most
# recently used snapshots, and none used within the last hour is removed.
KEEP = 8
KEEP_ENV = "GUESTDBG_SNAPSHOTS_KEPT"
USED = "used"
GRACE_SECONDS = 3600.0


class SnapshotError(GuestError):
    """A snapshot that cannot be used (the sentence says why); the guest is
    booted instead. ``by_qemu``: the file was intact but QEMU could not
    restore a working guest from it (so making another would not help)."""

    def __init__(
        self, message: str, *, by_qemu: bool = False, evidence: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, evidence=evidence)
        self.by_qemu = by_qemu


# -- the key --------------------------------------------------------------


@functools.cache
def _digest_of(path: str, identity: tuple[int, int, int, int]) -> str:
    """sha256 of a file, once per process per (device, inode, size, mtime)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def file_digest(path: Path) -> str:
    st = os.stat(path)
    return _digest_of(str(path), (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))


def _host_cpu() -> str:
    """The host CPU's model and flags (a KVM guest's -cpu host depends on them)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    wanted = ("model name", "flags")
    lines = [ln for ln in text.splitlines() if ln.split(":", 1)[0].strip() in wanted]
    return content_key("\n".join(sorted(set(lines))))


def key_fields(spec: GuestSpec, prepare: Sequence[str]) -> dict[str, Any]:
    """Everything a snapshot depends on, as data (hashed into its key and kept
    in its metadata): GuestError when QEMU is missing, OSError when an image is."""
    qemu = host.probe_qemu(spec.qemu)
    if not qemu.path or not qemu.version:
        raise GuestError(qemu.problem or f"cannot tell the version of {spec.qemu}")
    # The command line with the per-guest parts neutral: sockets, logs, name
    # and the gdbstub (not guest state) are the same for every guest.
    neutral = dataclasses.replace(
        spec,
        name="guest",
        paused=False,
        incoming=False,
        log_append=False,
        gdbstub="unix",
        qemu=qemu.path,
    )
    command = (Path("CMD"), Path("CMD.LOG")) if spec.command_port else (None, None)
    argv = neutral.argv(Path("QMP"), Path("CONSOLE"), Path("CONSOLE.LOG"), "GDBSTUB", *command)
    files = {str(spec.kernel): "kernel"}
    if spec.initrd is not None:
        files[str(spec.initrd)] = "initrd"
    argv = [
        f"{files[a]}:{file_digest(Path(a))}" if a in files else a
        for a in argv[:1] + argv[3:]  # without -name NAME
    ]
    fields: dict[str, Any] = {
        "recipe": RECIPE,
        "qemu": {
            "path": qemu.path,
            "version": qemu.version,
            "sha256": file_digest(Path(qemu.path)),
        },
        "argv": argv,
        "prepare": list(prepare),
    }
    if spec.accel != "tcg":
        fields["host"] = {"kernel": platform.release(), "cpu": _host_cpu()}
    return fields


def snapshot_key(spec: GuestSpec, prepare: Sequence[str] = ()) -> str:
    return content_key(json.dumps(key_fields(spec, prepare), sort_keys=True))


# -- the cache entry --------------------------------------------------------


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


@dataclass(frozen=True)
class HostSnapshot:
    """A kvm-nested guest's snapshot, kept inside the nested KVM host that
    runs it: the stream in the host's RAM (``state`` is a path there), the
    serial logs on this machine. It lives as long as that host, which is
    booted once per session, so nothing of it outlives the session."""

    key: str
    state: str
    console_log: Path
    command_log: Path
    ready_info: ReadyInfo

    def ready(self) -> ReadyInfo:
        return self.ready_info

    def verify(self) -> None:
        """Nothing to check: this process wrote it, into the host's RAM."""


def entry_path(key: str) -> Path:
    return cache_dir() / f"{PREFIX}{key}"


def _made_ns(path: Path) -> int:
    try:
        return (path / ".complete").stat().st_mtime_ns
    except OSError:
        return 0


def find(key: str) -> Snapshot | None:
    """The complete snapshot of ``key``, or None."""
    path = entry_path(key)
    made = _made_ns(path)
    return Snapshot(path, made) if made else None


@contextlib.contextmanager
def _entry_lock(key: str, timeout: float) -> Iterator[bool]:
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


def discard(snapshot: Snapshot, why: str) -> None:
    """Remove an unusable snapshot, so the next guest of its key makes it anew.
    Renamed first: a guest restoring from it right now keeps its open file."""
    with _entry_lock(snapshot.key, 10.0) as locked:
        if not locked or _made_ns(snapshot.path) != snapshot.made_ns:
            return  # being made, or already made anew by another process
        gone = snapshot.path.with_name(f"{snapshot.path.name}.discarded-{secrets.token_hex(4)}")
        with contextlib.suppress(OSError):
            snapshot.path.rename(gone)
            (gone / "discarded-because").write_text(why + "\n")
            shutil.rmtree(gone, ignore_errors=True)


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
    entries.sort(key=last_used, reverse=True)
    now = time.time()
    removed = []
    for path in entries[keep:]:
        used = last_used(path)
        if now - used < grace:
            continue
        snap = Snapshot(path, _made_ns(path))
        with _entry_lock(snap.key, 0.0) as locked:
            if not locked:
                continue  # being made anew right now
            size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
            gone = path.with_name(f"{path.name}.discarded-{secrets.token_hex(4)}")
            try:
                path.rename(gone)  # a guest restoring from it keeps its open file
            except OSError:
                continue
            shutil.rmtree(gone, ignore_errors=True)
        removed.append(snap.key)
        log.info(
            "removed snapshot %s (%d MB, last used %s): the cache keeps the %d most "
            "recently used (%s)",
            snap.key,
            size >> 20,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(used)),
            keep,
            KEEP_ENV,
        )
    return removed


# -- QMP: handing files over and migration events ---------------------------


def _send_file(guest: Guest, path: Path, name: str, write: bool) -> None:
    """Give QEMU an open file (SCM_RIGHTS over the QMP socket) as fd ``name``."""
    qmp = guest._qmp
    if qmp is None:
        raise GuestError("QMP is not connected")
    flags = (os.O_WRONLY | os.O_CREAT | os.O_TRUNC) if write else os.O_RDONLY
    fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
    try:
        qmp.send_fd_scm(fd)
    finally:
        os.close(fd)
    guest.qmp("getfd", fdname=name)


def _wait_migration(guest: Guest, timeout: float, doing: str) -> str:
    """Wait for the MIGRATION event that ends a migration (the ``events``
    capability must be on); return its status, ``completed`` or ``failed``.
    GuestError at once when QEMU dies or freezes, DeadlineError after ``timeout``."""
    qmp = guest._qmp
    if qmp is None:
        raise GuestError("QMP is not connected")
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineError(f"{doing} did not end within {timeout:g}s")
        try:
            event = qmp.pull_event(wait=min(left, 1.0))
        except TimeoutError:
            event = None
        except Exception as err:  # the connection ended: QEMU exited
            raise GuestError(
                f"{doing}: {guest.death_reason()} ({err.__class__.__name__})"
            ) from None
        if event and event.get("event") == "MIGRATION":
            status = str(event.get("data", {}).get("status"))
            if status in ("completed", "failed", "cancelled"):
                return status
        if event is None:
            why = guest.problem()
            if why:
                raise GuestError(f"{why} ({doing})")


# -- making one ---------------------------------------------------------------


def _write_state(
    guest: Guest, timeout: float, doing: str, uri: str = "", local_file: Path | None = None
) -> None:
    """Migrate the stopped guest's state to ``local_file`` (handed to QEMU
    over QMP) or to ``uri``. SnapshotError when QEMU cannot write it;
    GuestError as it is when QEMU died (the guest's failure, not the snapshot's)."""
    try:
        guest.qmp(
            "migrate-set-capabilities", capabilities=[{"capability": "events", "state": True}]
        )
        guest.qmp("migrate-set-parameters", **{"max-bandwidth": SAVE_BANDWIDTH})
        if local_file is not None:
            _send_file(guest, local_file, "guestdbg-snapshot", write=True)
            uri = "fd:guestdbg-snapshot"
        guest.qmp("migrate", uri=uri)
        status = _wait_migration(guest, timeout, doing)
    except (GuestError, OSError) as err:
        if guest.problem(ping=False):
            raise
        with contextlib.suppress(GuestError):
            guest.qmp("migrate_cancel")
        raise SnapshotError(f"QEMU could not write the snapshot: {_first_line(err)}") from None
    if status != "completed":
        info = guest.qmp("query-migrate")
        raise SnapshotError(
            f"QEMU could not write the snapshot: migration {status}"
            + (f" ({info['error-desc']})" if info.get("error-desc") else "")
        )


def save(guest: Guest, key: str, prepare: Sequence[str], timeout: float = 60.0) -> Snapshot:
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
        _write_state(guest, timeout, "writing the snapshot", local_file=snap.state)
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


# -- starting from one ----------------------------------------------------------


@dataclass
class RestoredGuest(Guest):
    """A :class:`Guest` started from ``snapshot`` instead of booted: same
    machine, ``-incoming defer``; ``wait_ready()`` loads the state, resumes
    the guest and waits for its shell to answer (SnapshotError when QEMU
    refuses the state or the guest does not answer)."""

    snapshot: Snapshot | HostSnapshot | None = None
    _proc_version: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.snapshot is None:
            raise ValueError("RestoredGuest needs a snapshot")
        self.spec = dataclasses.replace(self.spec, incoming=True, log_append=True, paused=False)

    def start(self) -> None:
        assert self.snapshot is not None
        if self.artifacts is None:
            self.artifacts = rundir.mkdtemp("guest-")
            self._own_artifacts = True
        # The session so far: QEMU appends what the restored guest prints.
        try:
            self.artifacts.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.snapshot.console_log, self.console_log)
            shutil.copyfile(self.snapshot.command_log, self.command_log)
        except OSError as err:
            raise SnapshotError(f"cannot copy its serial logs ({err})") from None
        super().start()

    def wait_ready(self, timeout: float | None = None) -> ReadyInfo:
        assert self.snapshot is not None
        timeout = timeout or self.spec.boot_timeout
        deadline = time.monotonic() + timeout
        ready = self.snapshot.ready()
        doing = f"loading snapshot {self.snapshot.key}"
        try:
            self.qmp(
                "migrate-set-capabilities", capabilities=[{"capability": "events", "state": True}]
            )
            self.qmp("migrate-incoming", uri=self._incoming_uri())
            status = _wait_migration(self, deadline - time.monotonic(), doing)
        except DeadlineError:
            raise
        except (GuestError, OSError) as err:
            raise SnapshotError(f"QEMU did not load it: {_first_line(err)}", by_qemu=True) from None
        if status != "completed":
            raise SnapshotError(f"QEMU did not load it: migration {status}", by_qemu=True)
        self.cont()
        self.console.ready = ready
        self.ready = ready
        left = max(1.0, deadline - time.monotonic())
        try:
            answer = self.run("cat /proc/version", timeout=left)
        except DeadlineError:
            raise
        except GuestError as err:
            raise SnapshotError(
                f"the restored guest died: {_first_line(err)}", by_qemu=True
            ) from None
        if not answer.ok or "Linux version" not in answer.output:
            raise SnapshotError(
                f"the restored guest's shell answered {answer.output.strip()[:80]!r} "
                f"(status {answer.status})",
                by_qemu=True,
            )
        self._proc_version = answer.output.strip()
        self.boot_seconds = time.monotonic() - self._started
        return ready

    def _incoming_uri(self) -> str:
        """Where QEMU reads the stream: the cache file handed over QMP, or
        (in a nested KVM host, where QMP is TCP) a file in that host's RAM."""
        assert self.snapshot is not None
        if isinstance(self.snapshot, HostSnapshot):
            return f"exec:cat {shlex.quote(self.snapshot.state)}"
        _send_file(self, self.snapshot.state, "guestdbg-snapshot", write=False)
        return "fd:guestdbg-snapshot"

    def proc_version(self) -> str:
        # Asked once after the restore: the kernel cannot have changed since.
        return self._proc_version or super().proc_version()


def _first_line(err: BaseException) -> str:
    text = err.message if isinstance(err, GuestdbgError) else str(err)
    return text.splitlines()[0] if text else err.__class__.__name__


# -- the one entry point ----------------------------------------------------------


class Started(NamedTuple):
    """A running guest and how it started: ``snapshot KEY``, ``boot (made
    snapshot KEY)``, or ``boot`` with the reason a snapshot was not used."""

    guest: Guest
    how: str


# Keys whose snapshot this process could not restore: booted from then on
# (a QEMU that cannot load its own streams would otherwise make and discard
# one per test).
_unrestorable: set[str] = set()


def start_guest(spec: GuestSpec, artifacts: Path | None, prepare: Sequence[str] = ()) -> Started:
    """A ready guest for ``spec`` whose shell has run ``prepare``: restored
    from the snapshot of its key, or booted (making the snapshot when there is
    none). Boot failures raise as from ``Guest``; a snapshot that cannot be
    used is one ``guestdbg.snapshot`` log line and a boot."""
    if spec.paused or spec.incoming or spec.accel not in ACCELS:
        raise ValueError(f"a paused, incoming or {spec.accel} guest does not start from a snapshot")
    try:
        key = snapshot_key(spec, prepare)
    except (GuestdbgError, OSError) as err:
        return _boot(spec, artifacts, prepare, f"no snapshot key: {_first_line(err)}")
    if key in _unrestorable:
        return _boot(spec, artifacts, prepare, f"snapshot {key} could not be restored earlier")
    snap = find(key)
    if snap is None:
        return _boot_and_save(spec, artifacts, prepare, key)
    started, why, remake = _try_restore(snap, spec, artifacts)
    if started is not None:
        return started
    if remake:  # a damaged file: this boot makes it anew
        return _boot_and_save(spec, artifacts, prepare, key, why)
    return _boot(spec, artifacts, prepare, why)


def _try_restore(
    snap: Snapshot, spec: GuestSpec, artifacts: Path | None
) -> tuple[Started | None, str, bool]:
    """(the restored guest, "", _) or (None, why not, whether to make it anew);
    the reason is logged, an unusable snapshot removed."""
    try:
        return Started(_restore(snap, spec, artifacts), f"snapshot {snap.key}"), "", False
    except SnapshotError as err:
        why = f"snapshot {snap.key} is unusable, booting instead: {err.message}"
        log.warning("%s", why)
        discard(snap, err.message)
        if err.by_qemu:
            _unrestorable.add(snap.key)
        return None, why, not err.by_qemu
    except DeadlineError as err:
        # Slow, not broken (a loaded host): kept for the next guest.
        why = f"snapshot {snap.key} was not restored in time, booting instead: {_first_line(err)}"
        log.warning("%s", why)
        return None, why, False


def _restore(snap: Snapshot, spec: GuestSpec, artifacts: Path | None) -> Guest:
    snap.verify()
    with contextlib.suppress(OSError):  # when it was last used, for prune()
        (snap.path / USED).touch()
    guest = RestoredGuest(spec, artifacts, snapshot=snap)
    try:
        guest.__enter__()  # closes what it started when it fails
    except BaseException:
        if guest.artifacts is not None and guest.stderr_log.exists():
            # Kept beside the boot's own log, as evidence of why it was not used.
            with contextlib.suppress(OSError):
                guest.stderr_log.rename(guest.artifacts / "snapshot-restore-stderr.log")
        raise
    return guest


def _boot(
    spec: GuestSpec,
    artifacts: Path | None,
    prepare: Sequence[str],
    why: str,
    nested_host: Any = None,
) -> Started:
    guest = Guest(spec, artifacts, nested_host=nested_host)
    guest.__enter__()
    try:
        _prepare(guest, prepare)
    except BaseException:
        guest.close()
        raise
    return Started(guest, f"boot ({why})")


def _boot_prepare_save(
    guest: Guest, save_it: Callable[[Guest], object], note: str, made: str, prepare: Sequence[str]
) -> Started:
    """Boot ``guest``, prepare it and save it with ``save_it``; a guest that
    could not be prepared or saved is still the test's (booted), with why."""
    guest.__enter__()
    try:
        if not _prepare(guest, prepare):
            return Started(guest, f"boot ({note}preparing it failed: no snapshot made)")
        try:
            save_it(guest)
        except SnapshotError as err:
            log.warning("no snapshot made: %s", err.message)
            return Started(guest, f"boot ({note}no snapshot made: {err.message})")
    except BaseException:
        guest.close()
        raise
    return Started(guest, f"boot ({note}{made})")


def _prepare(guest: Guest, prepare: Sequence[str]) -> bool:
    """Run the preparation commands; False (logged) when one fails: that
    guest is not snapshotted, and the test meets the failure itself."""
    for command in prepare:
        result = guest.run(command, timeout=60)
        if not result.ok:
            log.warning(
                "preparing the guest: %r failed with status %d: %s",
                command,
                result.status,
                result.output.strip()[:200],
            )
            return False
    return True


def _boot_and_save(
    spec: GuestSpec, artifacts: Path | None, prepare: Sequence[str], key: str, why: str = ""
) -> Started:
    """Boot, prepare and snapshot the guest (unless another process made the
    snapshot meanwhile: then restore that)."""
    note = f"{why}; " if why else ""
    # Another process may be making it: wait for that (about one boot).
    with _entry_lock(key, spec.boot_timeout + 60.0) as locked:
        if not locked:
            busy = f"snapshot {key} is being made by another process that takes too long"
            log.warning("%s, booting instead", busy)
            return _boot(spec, artifacts, prepare, note + busy)
        snap = find(key)
        if snap is None:

            def save_and_prune(guest: Guest) -> None:
                save(guest, key, prepare)
                prune()

            return _boot_prepare_save(
                Guest(spec, artifacts), save_and_prune, note, f"made snapshot {key}", prepare
            )
    started, why, _ = _try_restore(snap, spec, artifacts)
    return started if started is not None else _boot(spec, artifacts, prepare, why)


# -- inside a nested KVM host ---------------------------------------------------


def start_in_nested_host(
    spec: GuestSpec, artifacts: Path | None, prepare: Sequence[str], nested_host: Any
) -> Started:
    """kvm-nested: :func:`start_guest` with the snapshot kept inside
    ``nested_host`` (a :class:`~guestdbg.runtime.nested.NestedHost`): the
    first guest of a key boots, is prepared and saved there; later ones are
    restored from it. One that cannot be restored is dropped, with one log
    line, and the guest boots."""
    try:
        key = snapshot_key(spec, prepare)
    except (GuestdbgError, OSError) as err:
        return _boot(spec, artifacts, prepare, f"no snapshot key: {_first_line(err)}", nested_host)
    snap = nested_host.snapshots.get(key)
    if snap is not None:
        try:
            try:
                nested_host.run(f"test -s {shlex.quote(snap.state)}")
            except GuestError:
                gone = f"its stream {snap.state} is gone from the nested host"
                raise SnapshotError(gone) from None
            restored = RestoredGuest(spec, artifacts, nested_host=nested_host, snapshot=snap)
            restored.__enter__()  # closes what it started when it fails
            return Started(restored, f"snapshot {key} (in the nested host)")
        except (SnapshotError, DeadlineError) as err:
            # Dropped either way: only this process uses this host, and the next
            # guest of the key makes the snapshot again.
            why = f"snapshot {key} is unusable, booting instead: {_first_line(err)}"
            log.warning("%s", why)
            nested_host.snapshots.pop(key, None)
            with contextlib.suppress(GuestdbgError):
                nested_host.run(f"rm -f {shlex.quote(snap.state)}")
            return _boot(spec, artifacts, prepare, why, nested_host)
    return _boot_prepare_save(
        Guest(spec, artifacts, nested_host=nested_host),
        lambda g: save_in_nested_host(g, key, nested_host),
        "",
        f"made snapshot {key} in the nested host",
        prepare,
    )


def save_in_nested_host(
    guest: Guest, key: str, nested_host: Any, timeout: float = 120.0
) -> HostSnapshot:
    """Stop a prepared, ready kvm-nested guest, write its state to a file in
    the nested host's RAM (``migrate exec:cat > FILE`` runs there) and resume
    it; the snapshot is recorded on ``nested_host.snapshots``."""
    assert guest.ready is not None and guest.artifacts is not None
    state = f"/tmp/guestdbg-snapshot-{key}"
    logs = Path(nested_host.artifacts) / "snapshots" / key
    guest.stop()
    try:
        _write_state(
            guest,
            timeout,
            "writing the snapshot in the nested host",
            uri=f"exec:cat > {shlex.quote(state)}",
        )
        try:
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(guest.console_log, logs / "console.log")
            shutil.copyfile(guest.command_log, logs / "commands.log")
        except OSError as err:
            raise SnapshotError(f"cannot keep its serial logs ({err})") from None
        snap = HostSnapshot(key, state, logs / "console.log", logs / "commands.log", guest.ready)
        nested_host.snapshots[key] = snap
        return snap
    finally:
        if guest.problem(ping=False) is None:
            guest.cont()


__all__ = [
    "HostSnapshot",
    "RestoredGuest",
    "Snapshot",
    "SnapshotError",
    "Started",
    "find",
    "key_fields",
    "prune",
    "save",
    "save_in_nested_host",
    "snapshot_key",
    "start_guest",
    "start_in_nested_host",
]
