"""``guestdbg run``: the guest-debug suite (shipped as ``guestdbg.suite``)
through pytest, with the plugin loaded and the suite options checked first."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

SUITE = Path(str(files("guestdbg.suite")))


def suite_selected(pytest_args: list[str]) -> bool:
    """True when the pytest arguments already name tests of the suite."""
    for arg in pytest_args:
        if arg.startswith("-"):
            continue
        path = Path(arg.split("::")[0]).resolve()
        if path == SUITE or SUITE in path.parents:
            return True
    return False


def pytest_argv(plugin_args: list[str], pytest_args: list[str]) -> list[str]:
    """pytest's argv: the suite (unless tests of it are named), the plugin,
    node ids relative to the suite, pytest's cache in the working directory."""
    argv = [
        "-p",
        "guestdbg.pytest_plugin",
        f"--rootdir={SUITE}",
        # guestdbg is imported before pytest starts: assertion rewriting of the
        # already-imported plugin does not apply and would only warn.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
    ]
    if "no:cacheprovider" not in pytest_args:
        argv += ["-o", f"cache_dir={Path(os.getcwd()) / '.pytest_cache'}"]
    argv += plugin_args
    return argv + ([] if suite_selected(pytest_args) else [str(SUITE)]) + pytest_args


def run(plugin_args: list[str], pytest_args: list[str]) -> int:
    import pytest

    return int(pytest.main(pytest_argv(plugin_args, pytest_args)))
