"""QEMU migration over QMP, as snapshots use it: handing a file to QEMU,
writing a stopped guest's state, loading one, and waiting for the
``MIGRATION`` event that ends either (bounded, and noticing at once when
QEMU dies or freezes)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from guestdbg.errors import DeadlineError, GuestdbgError, GuestError, SnapshotError
from guestdbg.runtime.placement import MigratableGuest

# The migration stream is written at the speed of the disk, not QEMU's
# default 128 MiB/s cap (which is meant for live migration over a network).
SAVE_BANDWIDTH = 1 << 40
FINALIZE_TIMEOUT = 30.0  # from "completed" to leaving finish-migrate (a short window)
FD_NAME = "guestdbg-snapshot"


def first_line(err: BaseException) -> str:
    text = err.message if isinstance(err, GuestdbgError) else str(err)
    return text.splitlines()[0] if text else err.__class__.__name__


def send_file(guest: MigratableGuest, path: Path, write: bool) -> str:
    """Give QEMU an open file (SCM_RIGHTS over the QMP socket); the URI that names it."""
    flags = (os.O_WRONLY | os.O_CREAT | os.O_TRUNC) if write else os.O_RDONLY
    fd = os.open(path, flags | os.O_CLOEXEC, 0o644)
    try:
        guest.send_fd(fd, FD_NAME)
    finally:
        os.close(fd)
    return f"fd:{FD_NAME}"


def wait_migration(guest: MigratableGuest, timeout: float, doing: str) -> str:
    """Wait for the MIGRATION event that ends a migration (the ``events``
    capability must be on); return its status, ``completed`` or ``failed``.
    GuestError at once when QEMU dies or freezes, DeadlineError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlineError(f"{doing} did not end within {timeout:g}s")
        event = guest.pull_event(min(left, 1.0), doing)
        if event and event.get("event") == "MIGRATION":
            status = str(event.get("data", {}).get("status"))
            if status in ("completed", "failed", "cancelled"):
                return status
        if event is None:
            why = guest.problem()
            if why:
                raise GuestError(f"{why} ({doing})")


def _events_on(guest: MigratableGuest) -> None:
    guest.qmp("migrate-set-capabilities", capabilities=[{"capability": "events", "state": True}])


def write_state(
    guest: MigratableGuest,
    timeout: float,
    doing: str,
    uri: str = "",
    local_file: Path | None = None,
) -> None:
    """Migrate the stopped guest's state to ``local_file`` (handed to QEMU
    over QMP) or to ``uri``. SnapshotError when QEMU cannot write it;
    GuestError as it is when QEMU died (the guest's failure, not the snapshot's)."""
    try:
        _events_on(guest)
        guest.qmp("migrate-set-parameters", **{"max-bandwidth": SAVE_BANDWIDTH})
        if local_file is not None:
            uri = send_file(guest, local_file, write=True)
        guest.qmp("migrate", uri=uri)
        status = wait_migration(guest, timeout, doing)
    except (GuestError, OSError) as err:
        if guest.problem(ping=False):
            raise
        with contextlib.suppress(GuestError):
            guest.qmp("migrate_cancel")
        raise SnapshotError(f"QEMU could not write the snapshot: {first_line(err)}") from None
    if status != "completed":
        info = guest.qmp("query-migrate")
        raise SnapshotError(
            f"QEMU could not write the snapshot: migration {status}"
            + (f" ({info['error-desc']})" if info.get("error-desc") else "")
        )
    _wait_finalized(guest, FINALIZE_TIMEOUT, doing)


def _wait_finalized(guest: MigratableGuest, timeout: float, doing: str) -> None:
    """QEMU sends MIGRATION "completed" before it leaves the finish-migrate
    run state, and a ``cont`` in between fails with "Migration is not
    finalized yet" (qmp_cont; a CI run's nested host hit that window).
    Wait until it has left; DeadlineError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while guest.qmp("query-status").get("status") == "finish-migrate":
        if time.monotonic() > deadline:
            raise DeadlineError(
                f"{doing}: QEMU stayed in the finish-migrate run state {timeout:g}s "
                "after the migration completed"
            )
        time.sleep(0.05)


def load_state(guest: MigratableGuest, uri: str, timeout: float, doing: str) -> None:
    """Load a state into a guest started with ``-incoming defer``.
    SnapshotError(by_qemu) when QEMU refuses it; DeadlineError as it is."""
    try:
        _events_on(guest)
        guest.qmp("migrate-incoming", uri=uri)
        status = wait_migration(guest, timeout, doing)
    except DeadlineError:
        raise
    except (GuestError, OSError) as err:
        raise SnapshotError(f"QEMU did not load it: {first_line(err)}", by_qemu=True) from None
    if status != "completed":
        raise SnapshotError(f"QEMU did not load it: migration {status}", by_qemu=True)
