"""Breakpoints: does the guest move on after a resume, or is it stuck?"""

from pathlib import Path

import pytest
from guestdbg import scenarios
from guestdbg.pytest_plugin import expect_clean, expect_found
from guestdbg.scenarios import Session

pytestmark = pytest.mark.guest


def test_resume_loop_with_a_slow_handler_makes_progress(
    request: pytest.FixtureRequest,
    shared_session: Session,
    artifacts: Path,
    bp_kind: str,
    sstep_override: int | None,
) -> None:
    result = scenarios.breakpoint_resume_loop(
        shared_session, hits=8, handler_delay=0.25, hardware=bp_kind == "hw", sstep=sstep_override
    )
    expect_clean(request, result, artifacts)


@pytest.mark.needs_blockirq
def test_resume_loop_with_an_nmi_pending_at_every_stop_makes_progress(
    request: pytest.FixtureRequest,
    session: Session,
    artifacts: Path,
    bp_kind: str,
    sstep_override: int | None,
) -> None:
    """The same stimulus as the stuck-breakpoint control, with QEMU's default
    single-step flags: interrupts are masked while stepping off the breakpoint.
    (A guest of its own: NMI messages printed late would land in the next
    test's console.)"""
    result = scenarios.breakpoint_resume_loop(
        session, hits=8, hardware=bp_kind == "hw", inject_nmi=True, sstep=sstep_override
    )
    expect_clean(request, result, artifacts)


@pytest.mark.control
@pytest.mark.handler_landing
def test_control_stuck_breakpoint_when_steps_take_interrupts(
    request: pytest.FixtureRequest, session: Session, artifacts: Path, bp_kind: str
) -> None:
    """Qqemu.sstep=0x1 lets the pending NMI in during the step off the
    breakpoint; the handler returns to the breakpoint, which hits again:
    the mechanism of the real KVM bug, where a host timer is always pending."""
    result = scenarios.breakpoint_resume_loop(
        session, hits=8, hardware=bp_kind == "hw", inject_nmi=True, sstep=0x1
    )
    expect_found(request, result, artifacts, "stuck-breakpoint", allowed=("no-progress",))
    # The same run is the forward-progress detector's positive control.
    assert "no-progress" in result.kinds(), result.kinds()
