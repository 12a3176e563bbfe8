"""The guest under test boots clean: no console report before any debugging."""

from pathlib import Path

import pytest
from guestdbg import judges, kernlog
from guestdbg.pytest_plugin import expect_clean
from guestdbg.runtime.qemu import Guest
from guestdbg.scenarios import ScenarioResult

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
