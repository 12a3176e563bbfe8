"""Matrix points in nested KVM hosts: the host each guest runs inside.

One host (L1) per host kernel and guest image per pytest session, booted on
first use and reused: a health check before each test (QEMU alive and not
frozen, the shell answering within seconds, KVM still there, the network up,
no lockup on its console; an unhealthy host is rebooted), the slice of
its console log a test saw kept as ``host-console.log`` in the test's
artifacts, the whole log under ``<artifacts>/nested-hosts/``. Only one host
runs at a time (tests are ordered by host kernel, see
:func:`order_by_host`), and all are shut down when the session ends.

Under an outer TCG, what it cannot show faithfully is marked here, never
reported as a result about the kernel or QEMU under test: tests using
software breakpoints, and controls that need a step to land in an interrupt
handler, are ``xfail(strict)`` naming the outer level
(:data:`guestdbg.runtime.nested.TCG_LIMITS`), and a case whose guest died
or stopped answering there runs once more (:func:`rerun_under_emulation`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guestdbg.errors import GuestdbgError
from guestdbg.images.guest_image import GuestImage
from guestdbg.pytest_plugin.levels import unfaithful_level
from guestdbg.pytest_plugin.options import MatrixPoint, opt
from guestdbg.pytest_plugin.reporting import ControlSilent, DefectFound
from guestdbg.runtime.nested import TCG_LIMITS, NestedHost, NestedHosts

_pool = pytest.StashKey[NestedHosts]()


def start_pool(config: pytest.Config) -> None:
    """This session's nested hosts (none booted yet; all shut down when the
    session ends). At configure time, so a test's start only reads it."""
    root = Path(str(opt(config, "artifacts"))).resolve() / "nested-hosts"
    config.stash[_pool] = NestedHosts(root)
    config.add_cleanup(config.stash[_pool].close)


def pool(config: pytest.Config) -> NestedHosts:
    return config.stash[_pool]


def host_from(
    hosts: NestedHosts, node: pytest.Item, point: MatrixPoint, image: GuestImage
) -> NestedHost:
    """The running, healthy nested host of ``point`` from this session's
    ``hosts`` (booted or rebooted there; a reboot is recorded on ``node``); an
    infrastructure failure with L1's console tail when it cannot be had."""
    assert point.host is not None
    before = len(hosts.reboots)
    try:
        h = hosts.healthy(
            point.host,
            [(image.kernel, image.initrd)],
            point.host_label or "host",
            qemu=point.qemu_tool().binary,
        )
    except GuestdbgError as err:
        pytest.fail(
            f"the nested KVM host ({point.host}) could not be started: {err}", pytrace=False
        )
    if len(hosts.reboots) > before:
        node.user_properties.append(("nested_host_rebooted", hosts.reboots[-1]))
    return h


def host_for(request: pytest.FixtureRequest, point: MatrixPoint, image: GuestImage) -> NestedHost:
    """:func:`host_from` this session's hosts."""
    return host_from(pool(request.config), request.node, point, image)


def apply_outer_marks(request: pytest.FixtureRequest, point: MatrixPoint) -> None:
    """xfail(strict) what the level below cannot show faithfully, naming it."""
    below = unfaithful_level(point)
    if below is not None:
        _mark_outer_limits(request, *below)


def _mark_outer_limits(request: pytest.FixtureRequest, level: str, fixed: frozenset[str]) -> None:
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    sw = params.get("bp_kind") == "sw" or request.node.get_closest_marker("sw_breakpoints")
    cause = None
    if sw and "sw-breakpoints" not in fixed:
        cause = TCG_LIMITS["sw-breakpoints"]
    elif request.node.get_closest_marker("handler_landing"):
        cause = TCG_LIMITS["handler-landing"]
    if cause:
        request.applymarker(
            pytest.mark.xfail(
                reason=f"outer level {level}: {cause}",
                strict=True,
                # Only a judged outcome is the expected one; a crash of the
                # harness is still a failure that cannot judge.
                raises=(DefectFound, ControlSilent),
            )
        )


def apply_blockirq_marks(request: pytest.FixtureRequest, h: NestedHost) -> None:
    """Tests that need KVM_GUESTDBG_BLOCKIRQ, on a host kernel without it: an
    xfail naming the host kernel where the outer level shows what happens;
    under an outer TCG a skip, since their verdict would rest on steps landing
    in handlers, which it never shows (the injection test judges such a host)."""
    if h.caps is None or h.caps.blockirq or not request.node.get_closest_marker("needs_blockirq"):
        return
    assert h.kernel is not None and h.outer is not None
    if not h.outer.faithful:
        pytest.skip(
            f"not judged: the host kernel {h.kernel.release} lacks KVM_GUESTDBG_BLOCKIRQ and "
            f"under the outer level {h.outer.describe()} its consequence cannot be seen: "
            f"{TCG_LIMITS['handler-landing']}; "
            "test_single_steps_take_interrupts_only_where_kvm_lacks_blockirq judges this host"
        )
    request.applymarker(
        pytest.mark.xfail(
            reason=f"the host kernel {h.kernel.release} lacks KVM_GUESTDBG_BLOCKIRQ: interrupts "
            "are injected while single-stepping",
            strict=False,
        )
    )


def record_host(request: pytest.FixtureRequest, h: NestedHost) -> None:
    """JUnit properties naming the host kernel, its KVM's guest-debug bits and the outer level."""
    assert h.kernel is not None and h.outer is not None
    request.node.user_properties.extend(
        [
            ("host_kernel", f"{h.kernel.release} ({h.kernel.origin})"),
            ("kvm_guest_debug2", h.caps.describe() if h.caps else "unknown"),
            ("outer_level", h.outer.describe()),
            ("host_console", str(h.guest.console_log if h.guest else "")),
        ]
    )


def host_console_slice(h: NestedHost, start: int, artifacts: Path) -> None:
    """This test's part of L1's console, as ``host-console.log``."""
    if h.guest is None:
        return
    text = h.guest.console.text()
    (artifacts / "host-console.log").write_text(text[start:])


def console_offset(h: NestedHost) -> int:
    return len(h.guest.console.text()) if h.guest is not None else 0


# What a guest that died or stopped answering looks like (a cannot-judge),
# and what a judge's verdict looks like (never rerun).
INFRA_FAILURES = (
    r"^(GuestError|DeadlineError|DebuggerError): ",
    r"^Failed: the guest could not be started",
    r"^Failed: the nested KVM host \(",
)
VERDICTS = (r"^(DefectFound|ControlSilent): ",)


def rerun_under_emulation(config: pytest.Config, items: list[Any]) -> None:
    """Under an outer level that is not faithful (an outer TCG), a nested
    guest sometimes hangs or resets on its own: such a case runs once more,
    shown as a rerun (pytest-rerunfailures' ``flaky`` mark); a judge's
    verdict is never rerun. Plain ``kvm`` cases on a machine whose CPU TCG
    emulates (``guestdbg vm-run``) likewise. Left alone when the user set
    ``--reruns``."""
    if config.getoption("reruns", None) is not None:
        return
    for item in items:
        point = getattr(getattr(item, "callspec", None), "params", {}).get("point")
        if isinstance(point, MatrixPoint) and unfaithful_level(point) is not None:
            item.add_marker(
                pytest.mark.flaky(
                    reruns=1, only_rerun=list(INFRA_FAILURES), rerun_except=list(VERDICTS)
                )
            )


def order_by_host(items: list[Any]) -> None:
    """Run each host kernel's tests together (stable otherwise), so one nested
    host boots once and runs alone."""

    def key(item: Any) -> str:
        point = getattr(getattr(item, "callspec", None), "params", {}).get("point")
        return (point.host or "") if isinstance(point, MatrixPoint) else ""

    items.sort(key=key)
