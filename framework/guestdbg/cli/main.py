"""The ``guestdbg`` command (also ``python -m guestdbg``).

    guestdbg probe [--json]            what this host can do (QEMU, gdb, KVM)
    guestdbg images [--kernel-tree P]  build or locate the guest images
    guestdbg boot [options] -- CMD     boot a guest, run CMD, print its output
    guestdbg run [options] [pytest args]      run the guest-debug suite
    guestdbg nightly --out DIR [options]      the suite with bisect-friendly verdicts
    guestdbg repro SCENARIO [options]  leave a guest in the bad state for gdb
    guestdbg kernlog FILE... [--json]  kernel reports in saved console logs
    guestdbg report DIR... [--out F]   static HTML report over nightly outputs
    guestdbg kcidb DIR [--out F]       a finished nightly as KCIDB data
    guestdbg vm-run [options] -- CMD   CMD inside a KVM-capable VM sharing this root

Exit statuses are those of :mod:`guestdbg.verdicts`. Each command imports
only what it uses.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from guestdbg import verdicts
from guestdbg.errors import GuestdbgError, InputError


def cmd_probe(args: argparse.Namespace) -> int:
    from guestdbg.runtime import host
    from guestdbg.runtime.kvm_vm import problem as vm_problem
    from guestdbg.runtime.nested import probe_nested

    info = host.probe()
    nested = probe_nested()
    vm = {"usable": vm_problem() is None, "problem": vm_problem()}
    if args.json:
        print(json.dumps({**info.to_json(), "kvm_nested": nested, "vm_run": vm}, indent=2))
    else:
        print(host.describe(info))
        can = "can run here" if nested["usable"] else f"cannot run here: {nested['problem']}"
        print(f"kvm-nested: {can}; outer level: {nested['outer_level']}")
        can = "can run here" if vm["usable"] else f"cannot run here: {vm['problem']}"
        print(f"vm-run (plain kvm in a KVM-capable VM sharing this root): {can}")
    return verdicts.GOOD


def cmd_images(args: argparse.Namespace) -> int:
    from guestdbg.images import kernels

    if args.fragment:
        from guestdbg.recipes import CONFIG_FRAGMENT

        print(CONFIG_FRAGMENT)
        return verdicts.GOOD
    if args.host_fragment:
        from guestdbg.recipes import HOST_FRAGMENT

        print(HOST_FRAGMENT)
        return verdicts.GOOD

    image = kernels.image_for(args.kernel_tree)
    print(f"kernel tree: {image.tree.root} ({image.tree.release})")
    print(f"bzImage:     {image.tree.bzimage}")
    print(f"vmlinux:     {image.tree.vmlinux}")
    print(f"gdb script:  {image.tree.gdb_script}")
    print(f"initramfs:   {image.initrd}")
    print(f"modules:     {image.module_dir} ({', '.join(image.modules)})")
    return verdicts.GOOD


def cmd_boot(args: argparse.Namespace) -> int:
    from guestdbg.cli.boot import cmd_boot as boot

    return boot(args)


def cmd_kernlog(args: argparse.Namespace) -> int:
    from guestdbg import kernlog

    return kernlog.command(args.files, as_json=args.json)


def cmd_repro(args: argparse.Namespace) -> int:
    from guestdbg.cli.repro import cmd_repro as repro

    return repro(args)


def cmd_run(args: argparse.Namespace, rest: list[str]) -> int:
    import pytest

    from guestdbg.cli import run
    from guestdbg.cli.signals import interrupted_by

    status = run.run(args, rest)
    if status == pytest.ExitCode.INTERRUPTED:
        return interrupted_by() or verdicts.INTERRUPTED_SIGINT
    return status


def cmd_nightly(args: argparse.Namespace, rest: list[str]) -> int:
    from guestdbg.cli import nightly
    from guestdbg.cli.report import check_origin

    check_origin(args.kcidb_origin)
    if args.kcidb is not None:  # an older night's KCIDB file must never pass for this one's
        if args.kcidb.is_dir():
            raise InputError(f"--kcidb {args.kcidb} is a directory: give the JSON file to write")
        args.kcidb.unlink(missing_ok=True)
    return nightly.run(args, rest)


def cmd_report(args: argparse.Namespace) -> int:
    from guestdbg.cli.report import cmd_report as report

    return report(args)


def cmd_kcidb(args: argparse.Namespace) -> int:
    from guestdbg.cli.report import check_origin, cmd_kcidb

    check_origin(args.origin)
    return cmd_kcidb(args)


def cmd_vm_run(args: argparse.Namespace) -> int:
    from guestdbg.cli.vm_run import cmd_vm_run as vm_run

    return vm_run(args)


class Parser(argparse.ArgumentParser):
    """argparse, with a bad option said in one sentence (exit 2), no usage dump."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)  # pytest's options must not match ours
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        self.exit(verdicts.BAD_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    # Here, not at the top: guest options import the QEMU spec, which
    # `guestdbg kernlog` (the fast path) never needs.
    from guestdbg.cli.guest_options import add_guest_options
    from guestdbg.cli.report import add_kcidb_options, add_report_parsers
    from guestdbg.cli.repro import add_repro_options
    from guestdbg.cli.suite_options import add_suite_options
    from guestdbg.cli.vm_run import add_vm_run_options
    from guestdbg.options import positive_float

    parser = Parser(
        prog="guestdbg",
        description="Does debugging a Linux guest under QEMU with gdb actually work?",
    )
    sub = parser.add_subparsers(dest="cmd", required=True, parser_class=Parser)
    p = sub.add_parser("probe", help="what this host can do: QEMU, gdb, KVM")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("images", help="build (or find in the cache) the guest images")
    p.add_argument("--kernel-tree", help="a built kernel tree, 'default' or 'debian-cloud'")
    p.add_argument(
        "--fragment",
        action="store_true",
        help="print the path of the kernel config fragment a tree under test needs",
    )
    p.add_argument(
        "--host-fragment",
        action="store_true",
        help="print the path of the config fragment a host kernel tree (kvm-nested) needs",
    )
    p = sub.add_parser(
        "boot",
        help="boot a guest, run a command in its shell, power off",
        description="Boot a guest, run CMD in its shell, print its output, "
        "power off; exit with CMD's status.",
    )
    add_guest_options(p)
    p.add_argument("--timeout", type=positive_float, default=60.0, help="seconds CMD may take")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD (run in the guest shell)")
    p = sub.add_parser(
        "kernlog",
        help="parse saved console logs into kernel reports",
        description="Parse saved console logs (CI artifacts, serial captures, dmesg) into "
        "WARNING/BUG/Oops/panic/lockup/stall reports. Exit status 0 when nothing was found, "
        "1 when reports were found.",
    )
    p.add_argument("files", nargs="+", type=Path, help="console log files ('-' for stdin)")
    p.add_argument("--json", action="store_true", help="a JSON list of reports")
    p = sub.add_parser(
        "run",
        help="run the guest-debug suite (other arguments go to pytest)",
        description="Run the guest-debug suite through pytest. The suite options below are "
        "checked first; every other argument goes to pytest (-k, -x, -n, --junitxml ...).",
    )
    add_suite_options(p)
    p = sub.add_parser(
        "nightly",
        help="run the matrix against kernel trees: JUnit, summaries, bisect-friendly exit",
        description="Run the guest-debug suite against kernel trees and write junit.xml, "
        "summary.json and summary.md to --out. Exit status: 0 good, 1 a debug defect found, "
        "125 could not judge (git bisect run skips the commit), 130/143 interrupted. Other "
        "arguments go to pytest (-k, -n ...).",
    )
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--kcidb", type=Path, help="also write the run as KCIDB JSON to this file")
    add_kcidb_options(p, prefix="kcidb-")
    add_suite_options(p)
    p = sub.add_parser(
        "repro",
        help="run one scenario and leave the guest paused in the bad state for gdb",
        description="Run one scenario; on a finding (or always with --keep) leave the guest "
        "paused in that state and print the gdb and QEMU command lines to look at it.",
    )
    add_repro_options(p)
    add_guest_options(p)
    add_report_parsers(sub)
    p = sub.add_parser("vm-run", help="run a command inside a KVM-capable VM sharing this root")
    add_vm_run_options(p)
    return parser


def _run_from_kernlog_fast_path(argv: list[str]) -> int | None:
    """``guestdbg kernlog`` without building the whole parser (which imports
    the scenarios for repro's choices): it must start fast."""
    if not argv or argv[0] != "kernlog":
        return None
    p = Parser(prog="guestdbg kernlog")
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--json", action="store_true")
    return _dispatch(cmd_kernlog, p.parse_args(argv[1:]))


def _dispatch(handler: object, args: argparse.Namespace, *extra: object) -> int:
    try:
        return int(handler(args, *extra))  # type: ignore[operator]
    except InputError as err:
        print(f"guestdbg: {err}", file=sys.stderr)
        return verdicts.BAD_INPUT
    except GuestdbgError as err:
        print(f"guestdbg: {err}", file=sys.stderr)
        return verdicts.CANNOT_JUDGE
    except BrokenPipeError:
        # The reader went away (``guestdbg kernlog … | head``): nothing to say.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the interpreter closes it
        return verdicts.GOOD
    except KeyboardInterrupt:
        from guestdbg.cli.signals import interrupted_by

        status = interrupted_by() or verdicts.INTERRUPTED_SIGINT
        print(f"guestdbg: interrupted ({status})", file=sys.stderr)
        return status


def main(argv: Sequence[str] | None = None) -> int:
    from guestdbg.cli import signals
    from guestdbg.cli.logs import show_framework_log

    argv = list(sys.argv[1:] if argv is None else argv)
    show_framework_log()
    signals.install()
    fast = _run_from_kernlog_fast_path(argv)
    if fast is not None:
        return fast
    parser = build_parser()
    if argv and argv[0] in ("run", "nightly"):
        args, rest = parser.parse_known_args(argv)
        handler = cmd_run if args.cmd == "run" else cmd_nightly
        return _dispatch(handler, args, rest)
    args = parser.parse_args(argv)
    handlers = {
        "probe": cmd_probe,
        "images": cmd_images,
        "boot": cmd_boot,
        "kernlog": cmd_kernlog,
        "repro": cmd_repro,
        "report": cmd_report,
        "kcidb": cmd_kcidb,
        "vm-run": cmd_vm_run,
    }
    return _dispatch(handlers[args.cmd], args)
