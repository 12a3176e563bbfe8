"""``guestdbg repro``: one command from "is this broken?" to a live gdb on
the guest in the bad state.

The scenario runs on a session that holds its state: when it finds a defect (or always with
``--keep``) the guest stays stopped exactly where the scenario left it — the
breakpoint still planted, QEMU's single-step flags as the scenario set them,
an injected NMI still pending — and the framework's gdb is ended without
detaching (QEMU keeps the vCPUs stopped when a gdb connection drops). The
command then prints the gdb command line that attaches to it with symbols and
lx-symbols loaded, and the QEMU command line; with ``--gdb`` it starts that
gdb itself. The guest lives until gdb exits or Ctrl-C.
"""

from __future__ import annotations

import argparse
import inspect
import shlex
import subprocess
import sys
import time
from pathlib import Path

from guestdbg import scenarios
from guestdbg.cli.guest_options import guest_options, placement
from guestdbg.debugger.gdb import Debugger
from guestdbg.images import kernels
from guestdbg.images.guest_image import GuestImage
from guestdbg.options import positive_float, positive_int, sstep_flags
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.start import start_guest
from guestdbg.scenarios.session import SNAPSHOT_PREPARATION


def add_repro_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "scenario",
        nargs="?",
        choices=sorted(scenarios.SCENARIOS),
        help="the scenario to run (--list describes them)",
    )
    p.add_argument("--list", action="store_true", help="list the scenarios, one line each")
    p.add_argument(
        "--keep",
        action="store_true",
        help="leave the guest paused for gdb even when nothing was found",
    )
    p.add_argument(
        "--gdb",
        action="store_true",
        help="start the attaching gdb instead of printing its command line",
    )
    knobs = p.add_argument_group("scenario knobs (each scenario takes those it knows)")
    knobs.add_argument(
        "--bp-kind", choices=("sw", "hw"), default="sw", help="software or hardware breakpoints"
    )
    knobs.add_argument(
        "--sstep",
        type=sstep_flags,
        default=None,
        help="QEMU single-step flags, e.g. 0x1 (ENABLE only: interrupts are taken while stepping)",
    )
    knobs.add_argument(
        "--nmi",
        action="store_true",
        help="bp-loop: inject an NMI at every stop; step: before the first steps",
    )
    knobs.add_argument("--hits", type=positive_int, default=8, help="bp-loop: breakpoint hits")
    knobs.add_argument(
        "--delay",
        type=positive_float,
        default=0.05,
        help="bp-loop: seconds spent at each stop (a slow handler)",
    )
    knobs.add_argument("--steps", type=positive_int, default=300, help="step: instructions to step")
    knobs.add_argument(
        "--rounds", type=positive_int, default=2, help="lx-symbols: rmmod/insmod rounds"
    )


def _knobs(fn: object, args: argparse.Namespace) -> dict[str, object]:
    offered = {
        "hardware": args.bp_kind == "hw",
        "sstep": args.sstep,
        "inject_nmi": args.nmi,
        "nmis": 3 if args.nmi else 0,
        "hits": args.hits,
        "handler_delay": args.delay,
        "steps": args.steps,
        "rounds": args.rounds,
    }
    accepted = inspect.signature(fn).parameters  # type: ignore[arg-type]
    return {k: v for k, v in offered.items() if k in accepted}


def gdb_command(image: GuestImage, guest: Guest) -> list[str]:
    """The gdb command line that attaches to ``guest`` with symbols and lx-symbols."""
    tree = image.tree
    return [
        "gdb",
        "-q",
        "-ex",
        f"add-auto-load-safe-path {tree.gdb_script.parent}",
        "-ex",
        f"file {tree.vmlinux}",
        "-ex",
        f"source {tree.gdb_script}",
        "-ex",
        f"target remote {guest.gdbstub.address}",
        "-ex",
        f"lx-symbols {image.module_dir}",
    ]


def cmd_repro(args: argparse.Namespace) -> int:
    if args.list or not args.scenario:
        for name, (_, line) in sorted(scenarios.SCENARIOS.items()):
            print(f"{name:12} {line}")
        return 0
    fn, _ = scenarios.SCENARIOS[args.scenario]
    image = kernels.image_for(args.kernel_tree)
    artifacts = args.artifacts or Path("artifacts") / (
        f"repro-{args.scenario}-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    artifacts = artifacts.resolve()
    spec = guest_options(args).spec(image)
    with placement(args, image, artifacts) as where:
        guest, how = start_guest(
            spec, where, SNAPSHOT_PREPARATION, artifacts, snapshot=not args.no_snapshot
        )
        with guest:
            return _run(args, fn, image, guest, how, artifacts, where.hardware_breakpoints_only())


def _run(
    args: argparse.Namespace,
    fn: object,
    image: GuestImage,
    guest: Guest,
    how: str,
    artifacts: Path,
    hw_only: bool,
) -> int:
    """The scenario on a started guest; the guest held for gdb when asked."""
    image.tree.check_running(guest.proc_version())
    if how.startswith("snapshot "):
        started = f"restored from {how}"
    else:
        started = f"booted: {how.removeprefix('boot (').removesuffix(')')}"
    print(f"guest: {started}, ready in {guest.boot_seconds:.2f}s", file=sys.stderr)
    dbg = Debugger(artifacts=artifacts)
    try:
        dbg.load(image.tree.vmlinux)
        # hw_only: a nested guest under an outer TCG takes software breakpoints itself.
        session = scenarios.Session(
            image, guest, dbg, artifacts, hold=True, hardware_breakpoints=hw_only
        )
        result = fn(session, **_knobs(fn, args))  # type: ignore[operator]
    except BaseException:
        dbg.close()
        raise
    result.write(artifacts / "findings.json")
    print(f"scenario {result.name}: {result.did}")
    for finding in result.findings:
        print(finding.describe())
    if not result.findings:
        print("no defect found")
    if not result.findings and not args.keep:
        dbg.close()
        return 0
    dbg.abandon()  # gdb goes; the guest stays stopped in this state
    if guest.status() == "running":
        guest.stop()
    gdb_cmd = gdb_command(image, guest)
    print(
        f"\nThe guest is paused in the state the scenario left it (QEMU status: {guest.status()})."
    )
    print(f"Attach:  cd {shlex.quote(str(artifacts))} && {shlex.join(gdb_cmd)}")
    print(f"QEMU:    {guest.shell_command()}")
    print(f"Logs:    {artifacts}")
    sys.stdout.flush()
    if args.gdb:
        subprocess.run(gdb_cmd, cwd=artifacts, check=False)
    else:
        print("Press Ctrl-C to end the guest.")
        sys.stdout.flush()
        try:
            if guest.proc is not None:
                guest.proc.wait()  # until Ctrl-C, or the guest ends by itself
        except KeyboardInterrupt:
            pass
    return 1 if result.findings else 0
