"""The command's log handler writes to the stderr of the moment."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from guestdbg.cli.logs import ConsoleHandler, show_framework_log


def test_a_record_after_the_stderr_it_was_installed_on_closed_goes_to_the_new_stderr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An in-process main() installs the handler while pytest captures stderr;
    a later test's records must not hit that closed stream ("Logging error",
    seen in a CI run) but today's stderr."""
    root = logging.getLogger("guestdbg")
    monkeypatch.setattr(root, "handlers", [])
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    show_framework_log()
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("guestdbg.nested").warning("nested host unhealthy")
    assert second.getvalue() == "guestdbg: nested host unhealthy\n"
    assert [type(h) for h in root.handlers] == [ConsoleHandler]
