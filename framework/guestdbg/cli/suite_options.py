"""The suite's options as ``guestdbg run`` and ``guestdbg nightly`` take
them: checked here, before anything boots (a bad value is one sentence and
exit 2), and handed to the pytest plugin under its own prefixed names. What
is left over goes to pytest unchanged; option values are never test paths.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from guestdbg.cli.guest_options import (
    host_kernel_value,
    positive_float,
    positive_int,
    sstep_flags,
)
from guestdbg.runtime.spec import ACCELS

BP_KINDS = ("sw", "hw")


def _csv_of(allowed: tuple[str, ...], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        values = [v.strip() for v in text.split(",") if v.strip()]
        bad = [v for v in values if v not in allowed]
        if bad or not values:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(bad) or repr(text)}: use a comma list of "
                + ",".join(allowed)
            )
        return ",".join(values)

    return parse


def _smp_list(text: str) -> str:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of vCPU counts")
    for v in values:
        positive_int(v)
    return ",".join(str(int(v, 0)) for v in values)


def _sstep_text(text: str) -> str:
    return hex(sstep_flags(text))


def _kernel_tree(text: str) -> str:
    from guestdbg.images.kernels import NAMED_TREES

    if text in NAMED_TREES:
        return text
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a kernel tree directory nor one of {', '.join(NAMED_TREES)}"
        )
    return str(path.resolve())


def add_suite_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("suite options (the rest goes to pytest)")
    g.add_argument(
        "--accel",
        type=_csv_of(ACCELS, "accelerator"),
        help="comma list of accelerators (default: those the host probe finds usable)",
    )
    g.add_argument("--smp", type=_smp_list, help="comma list of vCPU counts (default 2)")
    g.add_argument("--cpu", help="QEMU -cpu model")
    g.add_argument("--memory", type=positive_int, help="guest RAM in MiB (default 512)")
    g.add_argument(
        "--kernel-tree",
        action="append",
        type=_kernel_tree,
        default=[],
        metavar="PATH",
        help="a built kernel tree, 'default' or 'debian-cloud' (repeatable: a matrix axis)",
    )
    g.add_argument(
        "--host-kernel",
        action="append",
        type=host_kernel_value,
        default=[],
        metavar="NAME|PATH",
        help="kvm-nested: the nested KVM host's kernel: debian-6.1, debian-5.10 or a built "
        "tree with KVM (repeatable: a matrix axis; default debian-6.1)",
    )
    g.add_argument("--sstep", type=_sstep_text, help="QEMU single-step flags, e.g. 0x1")
    g.add_argument("--bp-kind", type=_csv_of(BP_KINDS, "breakpoint kind"), help="comma list: sw,hw")
    g.add_argument(
        "--repeat", type=positive_int, default=1, help="run each test N times (pytest-repeat)"
    )
    g.add_argument("--artifacts", type=Path, help="per-test artifacts root (default ./artifacts)")
    g.add_argument(
        "--keep-artifacts", action="store_true", help="keep artifacts of passing tests too"
    )
    g.add_argument("--boot-timeout", type=positive_float, help="seconds to reach the shell")
    g.add_argument("--stop-timeout", type=positive_float, help="seconds for a gdb result or stop")
    g.add_argument(
        "--no-snapshot",
        action="store_true",
        help="boot every guest instead of restoring a snapshot of a booted one",
    )
    g.add_argument("--qemu", help="the QEMU binary")
    g.add_argument("--gdb", help="the gdb binary")


def plugin_args(args: argparse.Namespace) -> list[str]:
    """The checked suite options as the pytest plugin's (and pytest-repeat's) options."""
    out: list[str] = []
    for name in ("accel", "smp", "cpu", "memory", "sstep", "bp_kind", "boot_timeout"):
        value = getattr(args, name)
        if value is not None:
            out.append(f"--guestdbg-{name.replace('_', '-')}={value}")
    for name in ("stop_timeout", "qemu", "gdb"):
        value = getattr(args, name)
        if value is not None:
            out.append(f"--guestdbg-{name.replace('_', '-')}={value}")
    if args.artifacts is not None:
        out.append(f"--guestdbg-artifacts={args.artifacts.resolve()}")
    if args.keep_artifacts:
        out.append("--guestdbg-keep-artifacts")
    if args.no_snapshot:
        out.append("--guestdbg-no-snapshot")
    out += [f"--guestdbg-kernel-tree={t}" for t in args.kernel_tree]
    out += [f"--guestdbg-host-kernel={h}" for h in args.host_kernel]
    if args.repeat > 1:
        out.append(f"--count={args.repeat}")
    return out
