"""The suite's options as ``guestdbg run`` and ``guestdbg nightly`` take
them (declared in :mod:`guestdbg.options`): checked here, before anything
boots (a bad value is one sentence and exit 2), and handed to pytest as
values (:class:`guestdbg.cli.run.SuiteValues`). What is left over goes to
pytest unchanged; option values are never test paths.
"""

from __future__ import annotations

import argparse

from guestdbg import options


def add_suite_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("suite options (the rest goes to pytest)")
    options.add_argparse(g, options.SUITE)
    g.add_argument(
        "--repeat",
        type=options.positive_int,
        default=1,
        help="run each test N times (pytest-repeat; ids end in -N-M)",
    )
