"""The options that say which guest to boot (``guestdbg boot`` and
``repro``), checked by argparse: a bad value is one sentence and exit 2."""

from __future__ import annotations

import argparse
from pathlib import Path

from guestdbg.runtime.spec import ACCELS, GuestOptions


def positive_int(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def sstep_flags(text: str) -> int:
    """QEMU single-step flags: ENABLE=1, NOIRQ=2, NOTIMER=4 (0x1..0x7)."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number (single-step flags: ENABLE=0x1, NOIRQ=0x2, NOTIMER=0x4)"
        ) from None
    if not 0 < value <= 0x7 or not value & 0x1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: single-step flags must include ENABLE (0x1) and be at most 0x7"
        )
    return value


def accel(text: str) -> str:
    if text not in ACCELS:
        raise argparse.ArgumentTypeError(f"unknown accelerator {text!r}: use {', '.join(ACCELS)}")
    return text


def add_guest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--kernel-tree",
        help="a built kernel tree, 'default' (the 6.1 tree built into the cache) or "
        "'debian-cloud' (Debian's cloud kernel); default: default",
    )
    p.add_argument(
        "--accel", type=accel, default=None, help="tcg or kvm (default: kvm where usable, else tcg)"
    )
    p.add_argument("--smp", type=positive_int, default=2, help="vCPUs (default 2)")
    p.add_argument("--cpu", default=None, help="QEMU -cpu model")
    p.add_argument(
        "--memory", type=positive_int, default=512, help="guest RAM in MiB (default 512)"
    )
    p.add_argument("--append", default="", help="extra kernel command line")
    p.add_argument(
        "--boot-timeout",
        type=positive_float,
        default=90.0,
        help="seconds to wait for the guest shell (default 90)",
    )
    p.add_argument(
        "--artifacts", type=Path, default=None, help="keep the console, QMP and gdb logs here"
    )
    p.add_argument("--qemu", default="qemu-system-x86_64", help="QEMU binary")


def guest_options(args: argparse.Namespace) -> GuestOptions:
    """The GuestOptions the command line asked for."""
    return GuestOptions(
        accel=args.accel,
        smp=args.smp,
        cpu=args.cpu,
        memory_mb=args.memory,
        append=args.append,
        boot_timeout=args.boot_timeout,
        qemu=args.qemu,
    )
