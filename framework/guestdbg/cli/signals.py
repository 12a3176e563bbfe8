"""Ctrl-C and SIGTERM (what a CI timeout sends) end a run in order.

Both raise KeyboardInterrupt in the main thread, which pytest and every
``with Guest``/``with Debugger`` already handle: fixtures tear down (QEMU and
gdb go), junit.xml and the nightly summaries are written with the verdict
"interrupted", the run directory is removed, and the command exits 130
(SIGINT) or 143 (SIGTERM).
"""

from __future__ import annotations

import signal
from types import FrameType

from guestdbg import verdicts

_received: list[int] = []


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered the way Ctrl-C is."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    first = not _received
    _received.append(signum)
    if not first:
        return  # the first one is being handled: let the teardown finish
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt()


def install() -> None:
    """Route SIGINT and SIGTERM to an orderly exit (main thread only)."""
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def interrupted_by() -> int | None:
    """130 or 143 when a signal ended the run, else None."""
    if not _received:
        return None
    return (
        verdicts.INTERRUPTED_SIGTERM
        if _received[0] == signal.SIGTERM
        else verdicts.INTERRUPTED_SIGINT
    )
