"""Where the ``guestdbg`` command shows the framework's log: stderr, one
``guestdbg: ...`` line per record; progress records of long builds rewrite
one line in place when stderr is a terminal."""

from __future__ import annotations

import logging
import sys
from typing import TextIO


class ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """stderr; on a terminal, progress lines overwrite each other."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.tty = sys.stderr.isatty()
        self.in_place = False
        self.setFormatter(logging.Formatter("guestdbg: %(message)s"))

    # The stream is whatever sys.stderr is when a record comes: a handler
    # installed by an in-process ``main()`` (tests) must not keep writing to a
    # stderr that pytest's capture has since closed.
    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass

    def emit(self, record: logging.LogRecord) -> None:
        progress = bool(getattr(record, "progress", False))
        if not self.tty:
            super().emit(record)
            return
        text = self.format(record)
        if progress:
            self.stream.write("\r\033[K" + text[:200])
        else:
            self.stream.write(("\r\033[K" if self.in_place else "") + text + "\n")
        self.in_place = progress
        self.flush()


def show_framework_log(level: int = logging.INFO) -> None:
    """Send the ``guestdbg`` loggers to stderr (idempotent)."""
    root = logging.getLogger("guestdbg")
    if not any(isinstance(h, ConsoleHandler) for h in root.handlers):
        root.addHandler(ConsoleHandler())
    root.setLevel(level)
