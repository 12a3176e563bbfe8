"""The one way to start a ready guest, wherever it runs: :func:`start_guest`.

The pytest plugin, ``guestdbg boot``, ``guestdbg repro`` and the benchmark
all start guests here. A guest whose shell must run preparation commands
(the suite loads the test module) starts from a snapshot of a booted,
prepared guest of the same configuration when its placement's store has one
(:mod:`guestdbg.runtime.snapshot_store`), else it boots and the snapshot is
made from it, so making one costs no boot of its own. A paused guest (for
attaching gdb at reset), or one asked for with ``snapshot=False``, boots.

A restored guest is an ordinary :class:`~guestdbg.runtime.qemu.Guest`
started with ``-incoming defer``: the stream is loaded over QMP, ``cont``
resumes it, and one shell command proves the shell answers. Its console log
is the snapshot's followed by its own (QEMU appends), so it reads as one
session. A snapshot that cannot be used (unreadable metadata, a state whose
checksum does not match, a stream QEMU refuses, a guest that does not
answer after the load) is removed and the guest booted instead, with one log
line (logger ``guestdbg.snapshot``) saying why; one that was only slow to
load (a loaded host) is kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from guestdbg.errors import DeadlineError, GuestdbgError, GuestError, SnapshotError
from guestdbg.runtime.console import ReadyInfo
from guestdbg.runtime.local import LOCAL
from guestdbg.runtime.migration import first_line, load_state
from guestdbg.runtime.placement import Placement, SnapshotStore, StoredSnapshot
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.snapshot_key import snapshot_key
from guestdbg.runtime.snapshot_store import log
from guestdbg.runtime.spec import GuestSpec


@dataclass
class RestoredGuest(Guest):
    """A :class:`Guest` started from ``snapshot`` (kept in ``store``) instead
    of booted: same machine, ``-incoming defer``; ``wait_ready()`` loads the
    state, resumes the guest and waits for its shell to answer
    (SnapshotError when QEMU refuses the state or the guest does not answer)."""

    snapshot: StoredSnapshot | None = None
    store: SnapshotStore | None = None
    _proc_version: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.snapshot is None or self.store is None:
            raise ValueError("RestoredGuest needs a snapshot and its store")
        self.spec = dataclasses.replace(self.spec, incoming=True, log_append=True, paused=False)

    def start(self) -> None:
        assert self.snapshot is not None
        self.prepare_artifacts()
        # The session so far: QEMU appends what the restored guest prints.
        try:
            shutil.copyfile(self.snapshot.console_log, self.console_log)
            shutil.copyfile(self.snapshot.command_log, self.command_log)
        except OSError as err:
            raise SnapshotError(f"cannot copy its serial logs ({err})") from None
        super().start()

    def wait_ready(self, timeout: float | None = None) -> ReadyInfo:
        assert self.snapshot is not None and self.store is not None
        timeout = timeout or self.spec.boot_timeout
        deadline = time.monotonic() + timeout
        ready = self.snapshot.ready()
        doing = f"loading snapshot {self.snapshot.key}"
        try:
            uri = self.store.incoming_uri(self, self.snapshot)
        except (GuestError, OSError) as err:
            raise SnapshotError(f"QEMU did not load it: {first_line(err)}", by_qemu=True) from None
        load_state(self, uri, deadline - time.monotonic(), doing)
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
                f"the restored guest died: {first_line(err)}", by_qemu=True
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

    def proc_version(self) -> str:
        # Asked once after the restore: the kernel cannot have changed since.
        return self._proc_version or super().proc_version()


class Started(NamedTuple):
    """A running guest and how it started: ``snapshot KEY``, ``boot (made
    snapshot KEY)``, or ``boot`` with the reason a snapshot was not used."""

    guest: Guest
    how: str


# Keys whose snapshot this process could not restore: booted from then on
# (a QEMU that cannot load its own streams would otherwise make and discard
# one per test).
_unrestorable: set[str] = set()


def start_guest(
    spec: GuestSpec,
    placement: Placement = LOCAL,
    prepare: Sequence[str] = (),
    artifacts: Path | None = None,
    *,
    snapshot: bool = True,
) -> Started:
    """A started guest for ``spec`` on ``placement``: ready, its shell having
    run ``prepare``, restored from the snapshot of its key or booted (making
    the snapshot when there is none); or paused at reset when ``spec.paused``.
    ``snapshot=False`` (``--no-snapshot``) boots without preparing (the
    scenarios load what they need themselves). Boot failures raise
    as from ``Guest``; a snapshot that cannot be used is one log line and a boot."""
    if spec.paused:
        return _boot(spec, placement, artifacts, (), "paused at reset")
    if not snapshot:
        return _boot(spec, placement, artifacts, (), "--no-snapshot")
    store = placement.snapshot_store()
    try:
        key = snapshot_key(spec, prepare)
    except (GuestdbgError, OSError) as err:
        return _boot(spec, placement, artifacts, prepare, f"no snapshot key: {first_line(err)}")
    if key in _unrestorable:
        why = f"snapshot {key} could not be restored earlier"
        return _boot(spec, placement, artifacts, prepare, why)
    snap = store.find(key)
    if snap is None:
        return _boot_and_save(spec, placement, store, artifacts, prepare, key)
    started, why, remake = _try_restore(snap, store, spec, placement, artifacts)
    if started is not None:
        return started
    if remake:  # a damaged file: this boot makes it anew
        return _boot_and_save(spec, placement, store, artifacts, prepare, key, why)
    return _boot(spec, placement, artifacts, prepare, why)


def _try_restore(
    snap: StoredSnapshot,
    store: SnapshotStore,
    spec: GuestSpec,
    placement: Placement,
    artifacts: Path | None,
) -> tuple[Started | None, str, bool]:
    """(the restored guest, "", _) or (None, why not, whether to make it anew);
    the reason is logged, an unusable snapshot removed."""
    try:
        snap.verify()
        store.used(snap)
        guest = RestoredGuest(spec, artifacts, placement, snapshot=snap, store=store)
        try:
            guest.__enter__()  # closes what it started when it fails
        except BaseException:
            if guest.artifacts is not None and guest.stderr_log.exists():
                # Kept beside the boot's own log, as evidence of why it was not used.
                with contextlib.suppress(OSError):
                    guest.stderr_log.rename(guest.artifacts / "snapshot-restore-stderr.log")
            raise
        return Started(guest, f"snapshot {snap.key}{store.where}"), "", False
    except SnapshotError as err:
        why = f"snapshot {snap.key} is unusable, booting instead: {err.message}"
        log.warning("%s", why)
        store.discard(snap, err.message)
        if err.by_qemu:
            _unrestorable.add(snap.key)
        return None, why, not err.by_qemu
    except DeadlineError as err:
        # Slow, not broken (a loaded host): kept for the next guest.
        why = f"snapshot {snap.key} was not restored in time, booting instead: {first_line(err)}"
        log.warning("%s", why)
        return None, why, False


def _boot(
    spec: GuestSpec,
    placement: Placement,
    artifacts: Path | None,
    prepare: Sequence[str],
    why: str,
) -> Started:
    guest = Guest(spec, artifacts, placement)
    guest.__enter__()
    try:
        _prepare(guest, prepare)
    except BaseException:
        guest.close()
        raise
    return Started(guest, f"boot ({why})")


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
    spec: GuestSpec,
    placement: Placement,
    store: SnapshotStore,
    artifacts: Path | None,
    prepare: Sequence[str],
    key: str,
    why: str = "",
) -> Started:
    """Boot, prepare and snapshot the guest (unless another process made the
    snapshot meanwhile: then restore that). A guest that could not be
    prepared or saved is still the caller's (booted), with why."""
    note = f"{why}; " if why else ""
    # Another process may be making it: wait for that (about one boot).
    with store.making(key, spec.boot_timeout + 60.0) as mine:
        if not mine:
            busy = f"snapshot {key} is being made by another process that takes too long"
            log.warning("%s, booting instead", busy)
            return _boot(spec, placement, artifacts, prepare, note + busy)
        snap = store.find(key)
        if snap is None:
            guest = Guest(spec, artifacts, placement)
            guest.__enter__()
            try:
                if not _prepare(guest, prepare):
                    return Started(guest, f"boot ({note}preparing it failed: no snapshot made)")
                try:
                    store.save(guest, key, prepare)
                except SnapshotError as err:
                    log.warning("no snapshot made: %s", err.message)
                    return Started(guest, f"boot ({note}no snapshot made: {err.message})")
            except BaseException:
                guest.close()
                raise
            return Started(guest, f"boot ({note}made snapshot {key}{store.where})")
    started, why, _ = _try_restore(snap, store, spec, placement, artifacts)
    return started if started is not None else _boot(spec, placement, artifacts, prepare, why)


__all__ = ["RestoredGuest", "Started", "start_guest"]
