"""One run directory per process for everything temporary.

Sockets (unix socket paths must be short, so it lives in /tmp), the
artifacts of guests and debuggers nobody asked to keep: all of it goes under
``/tmp/guestdbg-run-<pid>-<random>/``, removed when the process exits (also
on Ctrl-C and SIGTERM, which the ``guestdbg`` command turns into an orderly
exit). A process killed outright cannot clean up: its directory is removed by
the next guestdbg process that starts a run directory, once the owner is gone
— the owner holds an flock on ``owner.lock`` for its whole life, so a
directory whose lock can be taken belongs to nobody.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
from pathlib import Path

PREFIX = "guestdbg-run-"
_lock = threading.Lock()
_state: dict[str, object] = {}


def base() -> Path:
    """Where run directories live (short: unix socket paths are limited to 108 bytes)."""
    return Path(os.environ.get("GUESTDBG_RUNDIR_BASE", "/tmp"))


def current() -> Path:
    """This process's run directory (created, and stale ones swept, on first use)."""
    with _lock:
        if _state.get("pid") == os.getpid():
            return Path(str(_state["path"]))
        sweep_stale()
        path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=base()))
        fd = os.open(path / "owner.lock", os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        _state.update(pid=os.getpid(), path=str(path), fd=fd)
        atexit.register(remove)
        return path


def mkdtemp(prefix: str) -> Path:
    """A new directory inside this process's run directory."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=current()))


def remove() -> None:
    """Remove this process's run directory (at exit)."""
    with _lock:
        if _state.get("pid") != os.getpid():
            return
        shutil.rmtree(str(_state["path"]), ignore_errors=True)
        with contextlib.suppress(OSError):
            os.close(int(str(_state["fd"])))
        _state.clear()


def sweep_stale() -> list[Path]:
    """Remove run directories whose owner process is gone; return them."""
    removed = []
    for path in base().glob(f"{PREFIX}*"):
        lock = path / "owner.lock"
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            # Being created this instant, or a dead owner that never locked: only
            # the latter is old enough to judge by age.
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < _now() - 60:
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # the owner is alive
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)
        removed.append(path)
    return removed


def _now() -> float:
    import time

    return time.time()
