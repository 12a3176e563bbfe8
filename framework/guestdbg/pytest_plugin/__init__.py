"""The pytest plugin: guest fixtures, the matrix, verdicts and reports.

Not loaded by merely installing guestdbg: a pytest session gets it with
``-p guestdbg.pytest_plugin`` (what ``guestdbg run`` and ``guestdbg
nightly`` pass) or ``pytest_plugins = ["guestdbg.pytest_plugin"]`` in a
rootdir conftest.py. ``options`` (options and matrix), ``fixtures`` (guests,
debugger, sessions, artifacts), ``reporting`` (verdicts, JUnit properties,
the terminal summary).
"""

import pytest

from guestdbg.options import WORKER_VALUES
from guestdbg.pytest_plugin.fixtures import (
    artifacts,
    console,
    debugger,
    early_session,
    guest,
    image,
    nested_host_log,
    paused_guest,
    qmp,
    session,
    shared_guest,
    shared_session,
    sstep_override,
)
from guestdbg.pytest_plugin.nested import order_by_host, rerun_under_emulation, start_pool
from guestdbg.pytest_plugin.options import (
    MatrixPoint,
    matrix,
    pytest_addoption,
    pytest_generate_tests,
)
from guestdbg.pytest_plugin.reporting import (
    bug_report,
    expect_clean,
    expect_found,
    pytest_report_header,
    pytest_runtest_logreport,
    pytest_runtest_makereport,
    pytest_terminal_summary,
    record,
)
from guestdbg.pytest_plugin.reporting import configure as configure_reporting


def apply_worker_values(config: pytest.Config) -> None:
    """In a pytest-xdist worker: the suite values the controller checked
    (``guestdbg run``/``nightly``), which the worker's own argv lacks."""
    workerinput = getattr(config, "workerinput", None) or {}
    for dest, value in workerinput.get(WORKER_VALUES, {}).items():
        setattr(config.option, dest, value)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    apply_worker_values(config)
    configure_reporting(config)
    start_pool(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[object]) -> None:
    """kvm-nested: each host kernel's tests together (one nested host at a
    time); KVM under an emulated outer level: a guest that died is rerun once."""
    order_by_host(items)
    rerun_under_emulation(config, items)


__all__ = [
    "MatrixPoint",
    "apply_worker_values",
    "artifacts",
    "bug_report",
    "console",
    "debugger",
    "early_session",
    "expect_clean",
    "expect_found",
    "guest",
    "image",
    "matrix",
    "nested_host_log",
    "paused_guest",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_report_header",
    "pytest_runtest_logreport",
    "pytest_runtest_makereport",
    "pytest_terminal_summary",
    "qmp",
    "record",
    "session",
    "shared_guest",
    "shared_session",
    "sstep_override",
]
