"""The guest under test boots clean: no console report before any debugging."""

from pathlib import Path

import pytest
from guestdbg import judges, kernlog
from guestdbg.errors import GuestError
from guestdbg.pytest_plugin import MatrixPoint, expect_clean, levels
from guestdbg.runtime.qemu import Guest
from guestdbg.scenarios import ScenarioResult, Session
from guestdbg.scenarios.session import TRIGGER

pytestmark = pytest.mark.guest


def test_the_guest_boots_clean(
    request: pytest.FixtureRequest, guest: Guest, artifacts: Path
) -> None:
    assert guest.ready is not None
    result = ScenarioResult("boot", "booted the guest to its shell")
    reports = kernlog.parse_text(guest.console.text())
    result.findings += judges.guest_health(reports, where=str(artifacts))
    result.data["console_reports"] = [r.title for r in reports]
    expect_clean(request, result, artifacts)


def test_control_a_stall_under_an_emulated_level_is_not_judged(
    request: pytest.FixtureRequest, point: MatrixPoint, session: Session, artifacts: Path
) -> None:
    """The control of the outer-level stall rule: where the KVM under test runs
    on an emulated CPU (a nested host under the outer TCG, or vm-run's VM),
    a stall on the guest's console is the outer QEMU's to answer for, so the
    case cannot judge; it is never a debug defect. Planted: the test module
    busy-waits 5 s with preemption off, with watchdog_thresh 1 (a real soft
    lockup, as the kernlog corpus captures it)."""
    if levels.unfaithful_level(point) is None:
        pytest.skip("the guest's KVM is not on an emulated level here: a stall is judged as one")
    session.ensure_module()
    guest = session.guest
    before = len(guest.console.text())
    assert guest.run("echo 1 > /proc/sys/kernel/watchdog_thresh").ok
    assert guest.run(f"echo spin:5 > {TRIGGER}", timeout=120).ok
    guest.run("sleep 0.5")
    result = ScenarioResult(
        "planted_stall", "busy-waited 5 s in the kernel with preemption off (watchdog_thresh 1)"
    )
    reports = kernlog.parse_text(guest.console.text()[before:])
    result.findings += judges.guest_health(reports, where=str(artifacts))
    assert "console-soft_lockup" in result.kinds(), [r.title for r in reports]
    with pytest.raises(GuestError) as judged:
        expect_clean(request, result, artifacts)
    assert judged.value.message.startswith("not judged: the guest reported console-"), str(
        judged.value
    )
