"""The ``guestdbg`` command (also ``python -m framework``).

    guestdbg probe [--json]            what this host can do (QEMU, gdb, KVM)
    guestdbg images [--kernel-tree P]  build or locate the guest images
    guestdbg boot [options] -- CMD     boot a guest, run CMD, print its output
    guestdbg run [pytest args]         run the guest-debug suite

Bad input ends with one sentence on stderr and exit status 2 (125 for the
host or the guest failing: "could not judge", as git bisect run expects).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from framework import host, images
from framework.errors import GuestdbgError, GuestError, HostError, InputError
from framework.repro import add_repro_options, cmd_repro

EXIT_INPUT = 2
EXIT_CANNOT_JUDGE = 125


def add_guest_options(p: argparse.ArgumentParser) -> None:
    """The options that say which guest to boot (boot and repro)."""
    p.add_argument(
        "--kernel-tree",
        type=Path,
        help="a built kernel tree, 'default' (the 6.1 tree built into the cache) or "
        "'debian-cloud' (Debian's cloud kernel); default: default",
    )
    p.add_argument("--accel", default=None, help="tcg or kvm (default: kvm where usable, else tcg)")
    p.add_argument("--smp", type=int, default=2, help="vCPUs (default 2)")
    p.add_argument("--cpu", default=None, help="QEMU -cpu model")
    p.add_argument("--memory", type=int, default=512, help="guest RAM in MiB (default 512)")
    p.add_argument("--append", default="", help="extra kernel command line")
    p.add_argument(
        "--boot-timeout",
        type=float,
        default=90.0,
        help="seconds to wait for the guest shell (default 90)",
    )
    p.add_argument(
        "--artifacts", type=Path, default=None, help="keep the console, QMP and gdb logs here"
    )
    p.add_argument("--qemu", default="qemu-system-x86_64", help="QEMU binary")


def default_accel() -> str:
    return "kvm" if host.probe().kvm.usable else "tcg"


def cmd_probe(args: argparse.Namespace) -> int:
    info = host.probe()
    if args.json:
        print(json.dumps(info.to_json(), indent=2))
    else:
        print(host.describe(info))
    return 0


def cmd_images(args: argparse.Namespace) -> int:
    tree = images.kernel_tree(args.kernel_tree)
    image = images.guest_image(tree)
    print(f"kernel tree: {image.tree.root} ({image.tree.release})")
    print(f"bzImage:     {image.tree.bzimage}")
    print(f"vmlinux:     {image.tree.vmlinux}")
    print(f"gdb script:  {image.tree.gdb_script}")
    print(f"initramfs:   {image.initrd}")
    print(f"modules:     {image.module_dir} ({', '.join(image.modules)})")
    return 0


def cmd_boot(args: argparse.Namespace) -> int:
    from framework.qemu import Guest, spec_for

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    tree = images.kernel_tree(args.kernel_tree)
    image = images.guest_image(tree)
    spec = spec_for(
        image,
        accel=args.accel or default_accel(),
        smp=args.smp,
        cpu=args.cpu,
        memory_mb=args.memory,
        append=args.append,
        boot_timeout=args.boot_timeout,
        qemu=args.qemu,
    )
    guest = Guest(spec, artifacts=args.artifacts)
    with guest:
        ready = guest.ready
        assert ready is not None
        print(
            f"guestdbg: booted {ready.release} with {ready.cpus} CPU(s) under "
            f"{spec.accel} in {guest.boot_seconds:.2f}s",
            file=sys.stderr,
        )
        status = 0
        if command:
            cmd = " ".join(command) if len(command) > 1 else command[0]
            result = guest.run(cmd, timeout=args.timeout)
            sys.stdout.write(result.output)
            sys.stdout.flush()
            status = result.status
    if args.artifacts is None:
        guest.discard_artifacts()
    else:
        print(f"guestdbg: console log in {guest.console_log}", file=sys.stderr)
    return status


def cmd_kernlog(args: argparse.Namespace) -> int:
    from framework import kernlog

    return kernlog.command(args.files, as_json=args.json)


def cmd_run(args: argparse.Namespace, rest: list[str]) -> int:
    import pytest

    suite = Path(__file__).resolve().parent.parent / "tests" / "guest"
    has_path = any(not a.startswith("-") and Path(a.split("::")[0]).exists() for a in rest)
    # framework is imported before pytest starts: its assertion rewriting of
    # the already-imported plugin does not apply and would only warn.
    argv = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    argv += ([] if has_path else [str(suite)]) + rest
    return int(pytest.main(argv))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guestdbg",
        description="Does debugging a Linux guest under QEMU with gdb actually work?",
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe", help="what this host can do: QEMU, gdb, KVM")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("images", help="build (or find in the cache) the guest images")
    p.add_argument("--kernel-tree", type=Path, help="a built kernel tree")
    p = sub.add_parser(
        "boot",
        help="boot a guest, run a command in its shell, power off",
        description="Boot a guest, run CMD in its shell, print its output, "
        "power off; exit with CMD's status.",
    )
    add_guest_options(p)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds CMD may take")
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
        "nightly",
        help="run the matrix against kernel trees: JUnit, summaries, bisect-friendly exit",
        description="Run the guest-debug suite against kernel trees and write junit.xml, "
        "summary.json and summary.md to --out. Exit status: 0 good, 1 a debug defect found, "
        "125 could not judge (git bisect run skips the commit). Other arguments go to pytest "
        "and the suite (--accel, --smp, --repeat, --sstep, --bp-kind, -k, -n ...).",
    )
    p.add_argument(
        "--kernel-tree",
        action="append",
        default=[],
        metavar="PATH",
        help="a built kernel tree (repeatable; default: the default 6.1 tree)",
    )
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p = sub.add_parser(
        "repro",
        help="run one scenario and leave the guest paused in the bad state for gdb",
        description="Run one scenario; on a finding (or always with --keep) leave the guest "
        "paused in that state and print the gdb and QEMU command lines to look at it.",
    )
    add_repro_options(p)
    sub.add_parser(
        "run", help="run the guest-debug suite (pytest options pass through)", add_help=False
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "run":
        try:
            return cmd_run(argparse.Namespace(), argv[1:])
        except KeyboardInterrupt:
            return 130
    if argv and argv[0] == "nightly":
        args, rest = parser.parse_known_args(argv)
        from framework import nightly

        try:
            return nightly.run(args.out, args.kernel_tree, rest)
        except KeyboardInterrupt:
            return 130
    args = parser.parse_args(argv)
    handlers = {
        "probe": cmd_probe,
        "images": cmd_images,
        "boot": cmd_boot,
        "kernlog": cmd_kernlog,
        "repro": cmd_repro,
    }
    try:
        return handlers[args.cmd](args)
    except InputError as err:
        print(f"guestdbg: {err}", file=sys.stderr)
        return EXIT_INPUT
    except (HostError, GuestError) as err:
        print(f"guestdbg: {err}", file=sys.stderr)
        return EXIT_CANNOT_JUDGE
    except GuestdbgError as err:
        print(f"guestdbg: {err}", file=sys.stderr)
        return EXIT_CANNOT_JUDGE
    except KeyboardInterrupt:
        print("guestdbg: interrupted", file=sys.stderr)
        return 130
