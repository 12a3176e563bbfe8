"""The options that say which guest to boot (``guestdbg boot`` and
``repro``), checked by argparse: a bad value is one sentence and exit 2."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
        "--accel",
        type=accel,
        default=None,
        help="tcg, kvm or kvm-nested (KVM inside a nested KVM host; default: kvm where "
        "usable, else tcg)",
    )
    p.add_argument(
        "--host-kernel",
        default="debian-6.1",
        metavar="NAME|PATH",
        help="kvm-nested: the nested KVM host's kernel: debian-6.1 (default), debian-5.10 "
        "or a built tree with KVM",
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


def host_kernel_value(text: str) -> str:
    """A --host-kernel value: debian-6.1, debian-5.10 or a directory."""
    from guestdbg.images.host_kernels import NAMED_HOSTS

    if text in NAMED_HOSTS:
        return text
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a built kernel tree directory nor one of {', '.join(NAMED_HOSTS)}"
        )
    return str(path.resolve())


@contextlib.contextmanager
def nested_host(args: argparse.Namespace, image: Any, artifacts: Path | None) -> Iterator[Any]:
    """For ``--accel kvm-nested``: the nested KVM host the guest runs inside
    (booted here, shut down on exit; its logs under ``artifacts/nested-host``
    or in a temporary directory removed afterwards), else None."""
    if args.accel != "kvm-nested":
        yield None
        return
    from guestdbg.errors import GuestdbgError
    from guestdbg.runtime.nested import NestedHost

    try:
        name = host_kernel_value(args.host_kernel)
    except argparse.ArgumentTypeError as err:
        from guestdbg.errors import InputError

        raise InputError(str(err)) from None
    own = artifacts is None
    root = (
        Path(tempfile.mkdtemp(prefix="guestdbg-nested-"))
        if artifacts is None
        else artifacts / "nested-host"
    )
    try:
        with NestedHost(name, [(image.kernel, image.initrd)], root, qemu=args.qemu) as host:
            try:
                yield host
            except GuestdbgError as err:
                err.evidence.update(host.evidence())  # the nested host's console tail too
                raise
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)
