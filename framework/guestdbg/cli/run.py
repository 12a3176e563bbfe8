"""``guestdbg run``: the guest-debug suite (shipped as ``guestdbg.suite``)
through pytest, with the plugin loaded and the suite options checked first."""

from __future__ import annotations

import argparse
import os
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from guestdbg import options

SUITE = Path(str(files("guestdbg.suite")))


class SuiteValues:
    """A pytest plugin object carrying the checked suite options into
    pytest's option namespace (and pytest-repeat's ``count``) before anything
    reads them. pytest-xdist's workers parse only pytest's own argv, so the
    values also travel to each worker in its ``workerinput``, where the
    plugin sets them (:func:`guestdbg.pytest_plugin.apply_worker_values`).
    ``extra``: values of the run's own (the nightly's scenario directory)."""

    def __init__(self, args: argparse.Namespace, extra: dict[str, Any] | None = None) -> None:
        self.values = options.suite_values(args) | (extra or {})
        if getattr(args, "repeat", 1) > 1:
            self.values["count"] = args.repeat

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        for dest, value in self.values.items():
            setattr(config.option, dest, value)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist, on the controller: hand a worker the values."""
        node.workerinput[options.WORKER_VALUES] = dict(self.values)


def suite_selected(pytest_args: list[str]) -> bool:
    """True when the pytest arguments already name tests of the suite."""
    for arg in pytest_args:
        if arg.startswith("-"):
            continue
        path = Path(arg.split("::")[0]).resolve()
        if path == SUITE or SUITE in path.parents:
            return True
    return False


def pytest_argv(pytest_args: list[str]) -> list[str]:
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
    return argv + ([] if suite_selected(pytest_args) else [str(SUITE)]) + pytest_args


def run(
    args: argparse.Namespace,
    pytest_args: list[str],
    plugins: tuple[Any, ...] = (),
    values: dict[str, Any] | None = None,
) -> int:
    """The suite under ``args`` (the checked suite options) with extra pytest
    arguments; ``values``: more option values for the plugin (and workers)."""
    suite = SuiteValues(args, values)
    return int(pytest.main(pytest_argv(pytest_args), plugins=[suite, *plugins]))
