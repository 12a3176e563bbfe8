"""``guestdbg report`` and ``guestdbg kcidb``: a finished nightly's results
where people look, and the same written by ``guestdbg nightly`` at its end.

    guestdbg report DIR... [--out FILE]      static HTML over one or many nights
    guestdbg kcidb DIR [--out FILE] [--origin NAME] [--artifacts-url URL]

Neither submits anything: KCIDB data goes to KernelCI with the user's own
``kcidb-submit`` (see the README).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from guestdbg import verdicts
from guestdbg.errors import InputError

DEFAULT_ORIGIN = "guestdbg"
REPORT_FILE = "report.html"


def add_kcidb_options(p: argparse.ArgumentParser, prefix: str = "") -> None:
    """``--origin``/``--artifacts-url`` (``--kcidb-origin``/``--kcidb-artifacts-url``
    on ``nightly``, where ``prefix`` is ``kcidb-``)."""
    p.add_argument(
        f"--{prefix}origin",
        default=DEFAULT_ORIGIN,
        help="the KCIDB origin: the CI system's name, lowercase letters, digits and _ "
        f"(default {DEFAULT_ORIGIN}; KernelCI assigns submitters theirs)",
    )
    p.add_argument(
        f"--{prefix}artifacts-url",
        help="where the output directory is published (http/https), so the KCIDB "
        "output files link there; default a file: URL of the directory",
    )


def add_report_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="a static HTML report over one or many nightly output directories",
        description="Write a static HTML report (one file plus its assets directory, readable "
        "offline) over nightly output directories, oldest night first: the latest matrix, "
        "each case's history, findings with evidence, plots of recorded traces.",
    )
    p.add_argument("dirs", nargs="+", type=Path, help="nightly output directories (--out)")
    p.add_argument(
        "--out", type=Path, default=Path(REPORT_FILE), help=f"the HTML file (default {REPORT_FILE})"
    )
    p = sub.add_parser(
        "kcidb",
        help="a finished nightly as KCIDB data (KernelCI), validated with kcidb-io",
        description="Convert a finished nightly output directory into KCIDB JSON "
        "(checkouts, builds, tests), validated with kcidb-io before it is written.",
    )
    p.add_argument("dir", type=Path, help="a nightly output directory (--out)")
    p.add_argument("--out", type=Path, help="the JSON file (default: standard output)")
    add_kcidb_options(p)


def cmd_report(args: argparse.Namespace) -> int:
    from guestdbg.results.html_report import write_report
    from guestdbg.results.nights import load_nights

    nights = load_nights(args.dirs)
    write_report(nights, args.out)
    print(f"guestdbg report: {len(nights)} night(s) in {args.out}")
    return verdicts.GOOD


def cmd_kcidb(args: argparse.Namespace) -> int:
    from guestdbg.results.kcidb import kcidb_data, write_kcidb
    from guestdbg.results.nights import Night

    night = Night.load(args.dir)
    data = kcidb_data(night, args.origin, args.artifacts_url)
    if args.out is None:
        import json

        json.dump(data, sys.stdout, indent=2)
        print()
    else:
        write_kcidb(data, args.out)
    return verdicts.GOOD


def results_written(out: Path, args: argparse.Namespace) -> None:
    """The nightly's last step: ``report.html`` beside ``summary.md``, and the
    KCIDB file when ``--kcidb`` asked for it. A failure here is said in one
    sentence and leaves the verdict alone (the suite's result stands)."""
    from guestdbg.errors import GuestdbgError

    try:
        from guestdbg.results.html_report import write_report
        from guestdbg.results.nights import Night

        night = Night.load(out)
        write_report([night], out / REPORT_FILE)
        kcidb_file: Path | None = getattr(args, "kcidb", None)
        if kcidb_file is not None:
            from guestdbg.results.kcidb import kcidb_data, write_kcidb

            kcidb_file.unlink(missing_ok=True)  # never leave an older night's data behind
            data = kcidb_data(night, args.kcidb_origin, args.kcidb_artifacts_url)
            write_kcidb(data, kcidb_file)
            print(f"guestdbg nightly: KCIDB data in {kcidb_file}")
    except (GuestdbgError, OSError, ImportError) as err:
        print(f"guestdbg nightly: results not written: {err}", file=sys.stderr)


def check_origin(origin: str) -> str:
    import re

    if not re.fullmatch(r"[a-z0-9_]+", origin):
        raise InputError(f"KCIDB origin {origin!r} must be lowercase letters, digits and _")
    return origin
