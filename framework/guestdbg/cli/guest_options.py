"""The options that say which guest to boot (``guestdbg boot`` and
``repro``, declared in :mod:`guestdbg.options`) and where it runs."""

from __future__ import annotations

import argparse
import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from guestdbg import options
from guestdbg.images.tools import qemu_named
from guestdbg.runtime.local import LOCAL
from guestdbg.runtime.placement import Placement
from guestdbg.runtime.spec import GuestOptions


def add_guest_options(p: argparse.ArgumentParser) -> None:
    options.add_argparse(p, options.GUEST)


def guest_options(args: argparse.Namespace) -> GuestOptions:
    """The GuestOptions the command line asked for."""
    accel = options.split_accel(args.accel)[0] if args.accel else None
    qemu = qemu_named(args.qemu)
    return GuestOptions(
        accel=accel,
        smp=args.smp,
        cpu=args.cpu,
        memory_mb=args.memory,
        append=args.append,
        boot_timeout=args.boot_timeout,
        qemu=qemu.binary,
        qemu_args=qemu.args,
    )


@contextlib.contextmanager
def placement(args: argparse.Namespace, image: Any, artifacts: Path | None) -> Iterator[Placement]:
    """Where the guest runs: this machine, or for ``--accel kvm-nested`` a
    nested KVM host booted here and shut down on exit (its logs under
    ``artifacts/nested-host`` or in a temporary directory removed afterwards)."""
    if not args.accel or options.split_accel(args.accel)[1] != "nested":
        yield LOCAL
        return
    from guestdbg.errors import GuestdbgError
    from guestdbg.runtime import rundir
    from guestdbg.runtime.nested import NestedHost

    own = artifacts is None
    root = rundir.mkdtemp("nested-") if artifacts is None else artifacts / "nested-host"
    try:
        with NestedHost(
            args.host_kernel,
            [(image.kernel, image.initrd)],
            root,
            qemu=qemu_named(args.qemu).binary,
        ) as host:
            try:
                yield host
            except GuestdbgError as err:
                err.evidence.update(host.evidence())  # the nested host's console tail too
                raise
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)


__all__ = ["add_guest_options", "guest_options", "placement"]
