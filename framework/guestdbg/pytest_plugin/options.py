"""The plugin's options (group ``guestdbg``, every name prefixed
``--guestdbg-``, declared once in :mod:`guestdbg.options`) and the matrix
they span.

The matrix is ordinary parametrisation: the module-scoped ``point`` fixture
(kernel tree x accelerator x vCPUs, ids like ``tcg-smp2`` or
``debian-cloud-tcg-smp2``; in a nested KVM host also x host kernel:
``kvm-nested-debian-5.10-smp1``) and ``bp_kind`` (``sw``/``hw``). ``guestdbg run``
and ``guestdbg nightly`` take the same options without the prefix, check
them before anything starts and hand pytest the values.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from guestdbg import options
from guestdbg.images import kernels
from guestdbg.images.tools import Tool, gdb_named, label, qemu_named
from guestdbg.runtime import host
from guestdbg.runtime.spec import GuestOptions


@dataclass(frozen=True)
class MatrixPoint:
    """One guest configuration of the matrix: QEMU's accelerator (``tcg``,
    ``kvm``) and where QEMU runs (``local``, ``nested``: a nested KVM host
    with the kernel ``host``)."""

    accel: str
    smp: int
    tree: str | None  # a --kernel-tree value, None for the default tree
    tree_label: str | None = None
    host: str | None = None  # nested: a --host-kernel value
    host_label: str | None = None
    placement: str = "local"
    qemu: str = "system"  # a --qemu value (guestdbg.images.tools)
    gdb: str = "system"  # a --gdb value
    qemu_label: str | None = None  # in ids when more than one QEMU is tested
    gdb_label: str | None = None

    @property
    def nested(self) -> bool:
        return self.placement == "nested"

    @property
    def id(self) -> str:
        parts = [self.tree_label] if self.tree_label else []
        accel = options.accel_label(self.accel, self.placement)
        where = [accel, self.host_label] if self.host_label else [accel]
        tools = [f"qemu-{self.qemu_label}"] if self.qemu_label else []
        tools += [f"gdb-{self.gdb_label}"] if self.gdb_label else []
        return "-".join([*parts, *where, f"smp{self.smp}", *tools])

    def qemu_tool(self) -> Tool:
        return qemu_named(self.qemu)

    def gdb_tool(self) -> Tool:
        return gdb_named(self.gdb)


def opt(config: pytest.Config, name: str) -> object:
    """The value of ``--guestdbg-NAME`` (``name`` with - or _)."""
    return config.getoption("guestdbg_" + name.replace("-", "_"))


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_pytest(parser.getgroup("guestdbg", "guest-debug suite (guestdbg)"))


csv = options.csv


def accels(config: pytest.Config) -> list[str]:
    """The accelerators as users write them (``kvm-nested`` included)."""
    value = opt(config, "accel")
    return csv(str(value)) if value else (host.probe().usable_accels() or ["tcg"])


def trees(config: pytest.Config) -> list[str | None]:
    return list(opt(config, "kernel_tree") or []) or [None]  # type: ignore[call-overload]


def host_kernels(config: pytest.Config) -> list[str]:
    """The --host-kernel values (the nested hosts' axis); debian-6.1 when none."""
    return list(opt(config, "host_kernel") or []) or ["debian-6.1"]  # type: ignore[call-overload]


def qemus(config: pytest.Config) -> list[str]:
    return list(opt(config, "qemu") or []) or ["system"]  # type: ignore[call-overload]


def gdbs(config: pytest.Config) -> list[str]:
    return list(opt(config, "gdb") or []) or ["system"]  # type: ignore[call-overload]


def matrix(config: pytest.Config) -> list[MatrixPoint]:
    from guestdbg.images import host_kernels as hosts

    all_trees = trees(config)
    points = []
    for tree in all_trees:
        named = tree is not None and (len(all_trees) > 1 or tree != kernels.DEFAULT_TREE)
        tree_label = kernels.label(tree) if named else None
        for value in accels(config):
            accel, placement = options.split_accel(value)
            for hk in host_kernels(config) if placement == "nested" else [None]:
                host_label = hosts.label(hk) if hk else None
                for smp in csv(str(opt(config, "smp"))):
                    for q in qemus(config):
                        for g in gdbs(config):
                            points.append(
                                MatrixPoint(
                                    accel, int(smp), tree, tree_label, hk, host_label,
                                    placement, q, g,
                                    label(q) if len(qemus(config)) > 1 else None,
                                    label(g) if len(gdbs(config)) > 1 else None,
                                )
                            )  # fmt: skip
    return points


def guest_options(config: pytest.Config, point: MatrixPoint) -> GuestOptions:
    """The one GuestOptions of a matrix point under these options."""
    qemu = point.qemu_tool()
    return GuestOptions(
        accel=point.accel,
        smp=point.smp,
        cpu=opt(config, "cpu"),  # type: ignore[arg-type]
        memory_mb=opt(config, "memory"),  # type: ignore[arg-type]
        boot_timeout=opt(config, "boot_timeout"),  # type: ignore[arg-type]
        qemu=qemu.binary,
        qemu_args=qemu.args,
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
