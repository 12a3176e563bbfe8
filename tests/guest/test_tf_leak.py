"""The host's single-step TF leaking into the guest (exc_debug WARN).

Every scenario runs the TF-leak detector over its console and the EFLAGS it
saw at stops; these are the detector's positive controls, one per half."""

from pathlib import Path

import pytest
from guestdbg import scenarios
from guestdbg.pytest_plugin import expect_found
from guestdbg.scenarios import Session

pytestmark = pytest.mark.guest


@pytest.mark.control
def test_control_tf_set_in_kernel_mode_is_reported(
    request: pytest.FixtureRequest, session: Session, artifacts: Path
) -> None:
    result = scenarios.tf_trigger(session)
    expect_found(request, result, artifacts, "tf-leak-warn")


@pytest.mark.control
@pytest.mark.eflags_tf_visible
def test_control_tf_seen_in_eflags_at_a_stop(
    request: pytest.FixtureRequest, session: Session, artifacts: Path
) -> None:
    """The EFLAGS half of the detector: the stop after the module's popf sees
    TF that the debugger did not set (the guest then also prints the WARN)."""
    result = scenarios.tf_seen_at_stop(session)
    expect_found(request, result, artifacts, "tf-set-at-stop", allowed=("tf-leak-warn",))
