"""Which level runs the KVM under test, and whether it shows what hardware
would: a nested host's outer level (this session's, fetched once), or, for
plain ``kvm`` inside ``guestdbg vm-run``'s VM, the level below that VM. The
outer-level marks (:mod:`.nested`) and the verdicts (:mod:`.reporting`) both
ask it."""

from __future__ import annotations

import functools

from guestdbg.pytest_plugin.options import MatrixPoint
from guestdbg.runtime import host
from guestdbg.runtime import nested as nested_rt
from guestdbg.runtime.nested import OuterLevel


@functools.cache
def outer() -> OuterLevel:
    """The outer level of this session's nested hosts (fetched once)."""
    return nested_rt.outer_level()


@functools.cache
def outer_problem() -> str | None:
    return nested_rt.outer_level_problem()


def unfaithful_level(point: MatrixPoint) -> tuple[str, frozenset[str]] | None:
    """For a KVM guest whose KVM runs on an emulated CPU, the level below it
    (its description, and the TCG_LIMITS keys its QEMU fixes); None where
    the guest sees what hardware would show. A nested host's outer level, or,
    for plain ``kvm`` inside ``guestdbg vm-run``'s VM, the level below that
    VM (as vm-run says it)."""
    if point.nested:
        if outer_problem() is not None or outer().faithful:
            return None
        return outer().describe(), outer().fixed
    if point.accel == "kvm" and host.machine_kind().emulated:
        vm = host.vm_outer()
        if vm is not None:
            return vm.describe, vm.fixed
        return f"TCG (this machine's CPU: {host.machine_kind().cpu!r})", frozenset()
    return None
