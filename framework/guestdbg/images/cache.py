"""The content-addressed cache of built guest artifacts.

Every entry's name carries a hash of its recipe and inputs, so an unchanged
recipe is never rebuilt and a changed one never reuses a stale build. The
cache lives outside the repository: ``$GUESTDBG_CACHE``, else
``$XDG_CACHE_HOME/guestdbg``, else ``~/.cache/guestdbg``. Builds take a lock
per entry (parallel pytest-xdist workers wait instead of building twice) and
report progress on one line.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from guestdbg.errors import BuildError

log = logging.getLogger("guestdbg.images")

# Bump when a build recipe changes in a way the hashed inputs do not show.
RECIPE_VERSION = "1"


def cache_dir() -> Path:
    """Where built images live (created on demand)."""
    env = os.environ.get("GUESTDBG_CACHE")
    if env:
        base = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) / "guestdbg" if xdg else Path.home() / ".cache" / "guestdbg"
    base.mkdir(parents=True, exist_ok=True)
    return base


def content_key(*parts: str | bytes | Path) -> str:
    """A short hash over strings, bytes and file contents (or directory trees)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            paths = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
            for p in paths:
                h.update(str(p.relative_to(part) if part.is_dir() else p.name).encode())
                h.update(p.read_bytes())
        elif isinstance(part, str):
            h.update(part.encode())
        else:
            h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:16]


@contextlib.contextmanager
def cache_entry(name: str) -> Iterator[tuple[Path, bool]]:
    """Lock the cache entry ``name``; yield (path, complete).

    The caller builds into ``path`` when ``complete`` is false and calls
    :func:`mark_complete`. The lock keeps parallel workers (pytest-xdist) from
    building the same entry twice; an entry left half-built by a killed build
    has no marker and is wiped.
    """
    root = cache_dir()
    path = root / name
    lock_path = root / f"{name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        complete = (path / ".complete").exists()
        if not complete and path.exists():
            shutil.rmtree(path)
        yield path, complete


@contextlib.contextmanager
def locked(name: str) -> Iterator[None]:
    """An exclusive lock named ``name`` in the cache (one builder at a time)."""
    with open(cache_dir() / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def mark_complete(path: Path) -> None:
    (path / ".complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))


class Progress:
    """Progress of one long build step, logged to ``guestdbg.images`` at INFO:
    at the start, every 20 s (5 s when stderr is a terminal) and at the end.
    The ``guestdbg`` command shows it on stderr (in place on a terminal);
    pytest captures it with the test's log."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.start = time.monotonic()
        self.last = 0.0
        self.interval = 5.0 if sys.stderr.isatty() else 20.0

    def update(self, detail: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        log.info("%s: %s (%.0fs)", self.what, detail, now - self.start, extra={"progress": True})

    def done(self, detail: str) -> None:
        log.info("%s: %s (%.0fs)", self.what, detail, time.monotonic() - self.start)


def run_logged(
    argv: Sequence[str],
    log: Path,
    progress: Progress,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run a build step, appending its output to ``log``; BuildError with the
    tail of the log when it fails."""
    count = 0
    with open(log, "a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            count += 1
            progress.update(f"{count} lines of output, last: {line.strip()[:60]}")
        rc = proc.wait()
    if rc != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-30:])
        raise BuildError(
            f"{progress.what} failed: '{' '.join(argv)}' exited with {rc}; full log: {log}",
            evidence={"build log tail": tail},
        )


_T = TypeVar("_T")


def keep_recent(
    entries: Iterable[_T],
    keep: int,
    grace: float,
    last_used: Callable[[_T], float],
    remove: Callable[[_T], bool],
) -> list[_T]:
    """The cache's one pruning rule: remove the entries beyond the ``keep``
    most recently used, except any used within ``grace`` seconds.
    ``remove(entry)`` returns False when it could not (in use right now).
    Returns the entries removed."""
    ranked = sorted(((last_used(e), e) for e in entries), key=lambda t: t[0], reverse=True)
    now = time.time()
    removed = []
    for used, entry in ranked[keep:]:
        if now - used < grace:
            continue
        if remove(entry):
            removed.append(entry)
    return removed
