"""``guestdbg boot [options] -- CMD``: boot a guest, run CMD in its shell,
print its output, power off; exit with CMD's status."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from guestdbg.cli.guest_options import guest_options, nested_host
from guestdbg.images import kernels
from guestdbg.runtime.qemu import Guest


def cmd_boot(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    image = kernels.image_for(args.kernel_tree)
    spec = guest_options(args).spec(image)
    with nested_host(args, image, args.artifacts) as host_vm:
        if host_vm is not None:
            print(
                f"guestdbg: nested KVM host {host_vm.kernel.release} booted under "
                f"{host_vm.outer.describe()} in {host_vm.boot_seconds:.2f}s; "
                f"{host_vm.caps.describe() if host_vm.caps else ''}",
                file=sys.stderr,
            )
        status = _boot(args, image, spec, command, host_vm)
    return status


def _boot(args: argparse.Namespace, image: Any, spec: Any, command: list[str], host_vm: Any) -> int:
    guest = Guest(spec, artifacts=args.artifacts, nested_host=host_vm)
    with guest:
        ready = guest.ready
        assert ready is not None
        image.tree.check_running(guest.proc_version())
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
