"""``guestdbg vm-run [options] -- CMD``: run one command inside a KVM-capable
VM that shares this machine's root (:mod:`guestdbg.runtime.kvm_vm`), e.g.
``guestdbg vm-run -- .venv/bin/guestdbg run --accel kvm -k boots_clean``.
Its output streams here; its exit status is the command's (125 when the VM
could not run it to the end)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from guestdbg.options import positive_float, positive_int


def add_vm_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--results",
        type=Path,
        default=Path("artifacts"),
        help="the folder the VM may write (shared read-write at its own path; everything "
        "else the command writes is lost); the VM's logs go to RESULTS/kvm-vm "
        "(default ./artifacts)",
    )
    p.add_argument(
        "--timeout", type=positive_float, default=3600.0, help="seconds CMD may take (default 3600)"
    )
    p.add_argument(
        "--boot-timeout",
        type=positive_float,
        default=300.0,
        help="seconds for the VM to reach CMD (default 300)",
    )
    p.add_argument(
        "--heartbeat-timeout",
        type=positive_float,
        default=180.0,
        help="seconds without the VM's heartbeat (a console line every 5 s) before the VM "
        "counts as frozen: its state is kept and the run ends with 125 (default 180)",
    )
    p.add_argument(
        "--frozen-retries",
        type=int,
        default=0,
        metavar="N",
        help="run CMD again in a fresh VM, at most N times, when the VM freezes or its "
        "kernel dies (said on the terminal; the lost VM's logs stay in "
        "RESULTS/kvm-vm/frozen-K) (default 0)",
    )
    p.add_argument("--memory", type=positive_int, default=4096, help="VM RAM in MiB (default 4096)")
    p.add_argument("--smp", type=positive_int, default=2, help="VM vCPUs (default 2)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS] (run in the VM)")


def cmd_vm_run(args: argparse.Namespace) -> int:
    from guestdbg.runtime.kvm_vm import run_in_vm

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    result = run_in_vm(
        command,
        args.results,
        sys.stdout.buffer,
        timeout=args.timeout,
        boot_timeout=args.boot_timeout,
        memory_mb=args.memory,
        smp=args.smp,
        heartbeat_timeout=args.heartbeat_timeout,
        frozen_retries=max(0, args.frozen_retries),
        say=lambda line: print(line, file=sys.stderr, flush=True),
    )
    boot = f"{result.boot_seconds:.1f}s" if result.boot_seconds is not None else "?"
    print(
        f"guestdbg: vm-run: exit status {result.status}; the VM reached the command in {boot}, "
        f"{result.seconds:.1f}s in all (logs in {result.control})",
        file=sys.stderr,
    )
    return result.status
