"""Fault injection into real runs, for the framework's own tests.

A pytest plugin (loaded with ``-p tests.framework.faults`` into a real
``guestdbg nightly``/``run``) that, when ``GUESTDBG_FAULT`` is set, kills or
freezes a part of the stack at a chosen moment of the first test it sees:

- ``kill-qemu`` / ``stop-qemu``: SIGKILL / SIGSTOP the guest's QEMU after
  ``GUESTDBG_FAULT_DELAY`` seconds of the test's call;
- ``kill-gdb``: SIGKILL the debugger's gdb after the delay;
- ``kill-shared-qemu``: SIGKILL the shared guest's QEMU right after the first
  test that used it passed (the next test must find it rebooted).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from typing import Any

import pytest

FAULT = os.environ.get("GUESTDBG_FAULT", "")
DELAY = float(os.environ.get("GUESTDBG_FAULT_DELAY", "1.0"))
_done: list[str] = []


def _target(item: pytest.Item, fault: str) -> int | None:
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    session = (
        funcargs.get("session") or funcargs.get("shared_session") or funcargs.get("early_session")
    )
    if session is None:
        return None
    if fault.endswith("gdb"):
        return int(session.debugger.mi.proc.pid)
    return int(session.guest.proc.pid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    timer = None
    if FAULT in ("kill-qemu", "stop-qemu", "kill-gdb") and not _done:
        pid = _target(item, FAULT)
        if pid is not None:
            _done.append(item.nodeid)
            sig = signal.SIGSTOP if FAULT == "stop-qemu" else signal.SIGKILL
            timer = threading.Timer(DELAY, os.kill, (pid, sig))
            timer.start()
    try:
        return (yield)
    finally:
        if timer is not None:
            timer.cancel()
        if FAULT == "kill-shared-qemu" and not _done and "shared_session" in item.funcargs:
            _done.append(item.nodeid)
            os.kill(item.funcargs["shared_session"].guest.proc.pid, signal.SIGKILL)
