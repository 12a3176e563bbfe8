"""The plugin's options (group ``guestdbg``, every name prefixed
``--guestdbg-``) and the matrix they span.

The matrix is ordinary parametrisation: the module-scoped ``point`` fixture
(kernel tree x accelerator x vCPUs, ids like ``tcg-smp2`` or
``debian-cloud-tcg-smp2``; under ``kvm-nested`` also x host kernel:
``kvm-nested-debian-5.10-smp1``) and ``bp_kind`` (``sw``/``hw``). ``guestdbg run``
and ``guestdbg nightly`` accept the same options without the prefix and
check them before anything starts (:mod:`guestdbg.cli.suite_options`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from guestdbg.images import kernels
from guestdbg.runtime import host
from guestdbg.runtime.spec import GuestOptions

PREFIX = "--guestdbg-"


@dataclass(frozen=True)
class MatrixPoint:
    """One guest configuration of the matrix."""

    accel: str
    smp: int
    tree: str | None  # a --kernel-tree value, None for the default tree
    tree_label: str | None = None
    host: str | None = None  # kvm-nested: a --host-kernel value
    host_label: str | None = None

    @property
    def id(self) -> str:
        parts = [self.tree_label] if self.tree_label else []
        accel = [self.accel, self.host_label] if self.host_label else [self.accel]
        return "-".join([*parts, *accel, f"smp{self.smp}"])


def opt(config: pytest.Config, name: str) -> object:
    """The value of ``--guestdbg-NAME`` (``name`` with - or _)."""
    return config.getoption("guestdbg_" + name.replace("-", "_"))


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("guestdbg", "guest-debug suite (guestdbg)")

    def add(name: str, **kw: object) -> None:
        g.addoption(PREFIX + name, dest="guestdbg_" + name.replace("-", "_"), **kw)

    add(
        "accel",
        default=None,
        help="comma list of accelerators: tcg,kvm,kvm-nested (default: those the host "
        "probe finds usable; KVM cases on a host without usable KVM skip with the reason; "
        "kvm-nested runs KVM inside a nested KVM host, only when asked)",
    )
    add(
        "host-kernel",
        action="append",
        default=[],
        metavar="NAME|PATH",
        help="kvm-nested: the nested KVM host's kernel, 'debian-6.1', 'debian-5.10' or a "
        "built tree with KVM; repeatable, each is a matrix value (default: debian-6.1)",
    )
    add("smp", default="2", help="comma list of vCPU counts (default 2)")
    add("cpu", default=None, help="QEMU -cpu model (default: QEMU's for TCG, host for KVM)")
    add("memory", type=int, default=512, help="guest RAM in MiB (default 512)")
    add(
        "kernel-tree",
        action="append",
        default=[],
        metavar="PATH",
        help="a built kernel tree to test, or 'default' (the 6.1 tree built from "
        "linux-source-6.1) or 'debian-cloud' (Debian's cloud kernel with its -dbg vmlinux); "
        "repeatable, each is a matrix value (default: default)",
    )
    add(
        "sstep",
        default=None,
        help="QEMU single-step flags for the known-good scenarios, e.g. 0x7 "
        "(default: QEMU's own default)",
    )
    add("bp-kind", default="sw,hw", help="comma list: sw (int3), hw (debug registers)")
    add("artifacts", default="artifacts", help="per-test artifacts root (default ./artifacts)")
    add("keep-artifacts", action="store_true", help="keep artifacts of passing tests too")
    add("boot-timeout", type=float, default=90.0, help="seconds to reach the shell")
    add(
        "stop-timeout",
        type=float,
        default=60.0,
        help="seconds gdb may wait for a command's result or a stop",
    )
    add(
        "no-snapshot",
        action="store_true",
        help="boot every guest instead of restoring the snapshot of a booted one "
        "(the early-boot scenario always boots)",
    )
    add("qemu", default="qemu-system-x86_64", help="the QEMU binary")
    add("gdb", default="gdb", help="the gdb binary")


def csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def accels(config: pytest.Config) -> list[str]:
    value = opt(config, "accel")
    return csv(str(value)) if value else (host.probe().usable_accels() or ["tcg"])


def trees(config: pytest.Config) -> list[str | None]:
    return list(opt(config, "kernel_tree") or []) or [None]  # type: ignore[call-overload]


def host_kernels(config: pytest.Config) -> list[str]:
    """The --host-kernel values (kvm-nested's axis); debian-6.1 when none."""
    return list(opt(config, "host_kernel") or []) or ["debian-6.1"]  # type: ignore[call-overload]


def matrix(config: pytest.Config) -> list[MatrixPoint]:
    from guestdbg.images import host_kernels as hosts

    all_trees = trees(config)
    points = []
    for tree in all_trees:
        named = tree is not None and (len(all_trees) > 1 or tree != kernels.DEFAULT_TREE)
        label = kernels.label(tree) if named else None
        for accel in accels(config):
            for hk in host_kernels(config) if accel == "kvm-nested" else [None]:
                host_label = hosts.label(hk) if hk else None
                for smp in csv(str(opt(config, "smp"))):
                    points.append(MatrixPoint(accel, int(smp), tree, label, hk, host_label))
    return points


def guest_options(config: pytest.Config, point: MatrixPoint) -> GuestOptions:
    """The one GuestOptions of a matrix point under these options."""
    return GuestOptions(
        accel=point.accel,
        smp=point.smp,
        cpu=opt(config, "cpu"),  # type: ignore[arg-type]
        memory_mb=opt(config, "memory"),  # type: ignore[arg-type]
        boot_timeout=opt(config, "boot_timeout"),  # type: ignore[arg-type]
        qemu=opt(config, "qemu"),  # type: ignore[arg-type]
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if "point" in metafunc.fixturenames:
        points = matrix(config)
        # Module scope: a module's tests on one matrix point can share a guest.
        metafunc.parametrize("point", points, ids=[p.id for p in points], scope="module")
    if "bp_kind" in metafunc.fixturenames:
        kinds = csv(str(opt(config, "bp_kind")))
        bad = [k for k in kinds if k not in ("sw", "hw")]
        if bad:
            raise pytest.UsageError(f"--bp-kind: unknown kind(s) {', '.join(bad)}; use sw,hw")
        metafunc.parametrize("bp_kind", kinds)
