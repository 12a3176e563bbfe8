"""``guestdbg boot [options] -- CMD``: start a guest (restored from the
snapshot of a booted one where there is one), run CMD in its shell, print
its output, power off; exit with CMD's status."""

from __future__ import annotations

import argparse
import sys

from guestdbg import options
from guestdbg.cli.guest_options import guest_options, placement
from guestdbg.images import kernels
from guestdbg.runtime.start import start_guest


def cmd_boot(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    image = kernels.image_for(args.kernel_tree)
    spec = guest_options(args).spec(image)
    with placement(args, image, args.artifacts) as where:
        if where.kind != "local":
            print(f"guestdbg: the guest runs in the {where.describe()}", file=sys.stderr)
        guest, how = start_guest(spec, where, (), args.artifacts, snapshot=not args.no_snapshot)
        with guest:
            ready = guest.ready
            assert ready is not None
            image.tree.check_running(guest.proc_version())
            verb = "restored" if how.startswith("snapshot ") else "booted"
            print(
                f"guestdbg: {verb} {ready.release} with {ready.cpus} CPU(s) under "
                f"{options.accel_label(spec.accel, where.kind)} in {guest.boot_seconds:.2f}s "
                f"({how})",
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
