"""gdb started beside a guest: a :class:`Debugger` loading the vmlinux in a
thread while the guest starts (gdb and the vmlinux load take about as long
as a restore). The pytest plugin's ``debugger`` fixture and the benchmark
start tests this way."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from guestdbg.debugger.gdb import Debugger
from guestdbg.errors import DebuggerError


def loaded_debugger(gdb: str, vmlinux: Path, artifacts: Path, timeout: float) -> Debugger:
    """gdb with the vmlinux loaded (ended again if loading fails)."""
    dbg = Debugger(gdb=gdb, artifacts=artifacts, timeout=timeout)
    try:
        dbg.load(vmlinux)
    except BaseException:
        dbg.close()
        raise
    return dbg


class EarlyDebugger:
    """This test's debugger, started in a thread while its guest starts (gdb
    and the vmlinux load take as long as a restore): the taker (the ``debugger``
    fixture) gets it; one nobody took is ended at ``release()``.

    gdb gets SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG
    names the thread, not the process), so the thread waits until the
    debugger is released."""

    WAIT = 300.0  # more than the Debugger's own deadlines (first prompt, the 120 s load)

    def __init__(self, gdb: str, vmlinux: Path, artifacts: Path, timeout: float) -> None:
        """gdb (the binary), the vmlinux it loads, where its logs go, and its
        deadline for a result or a stop."""
        self._result: Debugger | BaseException | None = None
        self._ready = threading.Event()
        self._released = threading.Event()
        self.taken = False
        self.load_seconds: float | None = None  # gdb's start and the vmlinux load
        threading.Thread(
            target=self._run, args=(gdb, vmlinux, artifacts, timeout), name="early-gdb", daemon=True
        ).start()

    def _run(self, gdb: str, vmlinux: Path, artifacts: Path, timeout: float) -> None:
        started = time.monotonic()
        try:
            self._result = loaded_debugger(gdb, vmlinux, artifacts, timeout)
            self.load_seconds = time.monotonic() - started
        except BaseException as err:
            self._result = err
        finally:
            self._ready.set()
        self._released.wait()

    def take(self) -> Debugger:
        self.taken = True
        if not self._ready.wait(self.WAIT):
            raise DebuggerError(f"gdb was not ready with the vmlinux loaded within {self.WAIT:g}s")
        if isinstance(self._result, BaseException):
            raise self._result
        assert self._result is not None
        return self._result

    def release(self) -> None:
        """The debugger has ended (or will never be used): let the thread go."""
        if not self.taken and self._ready.wait(self.WAIT) and isinstance(self._result, Debugger):
            with contextlib.suppress(Exception):
                self._result.close()
        self._released.set()
