"""Interrupts injected while single-stepping, read on both sides: the KVM
host's tracefs (kvm:kvm_inj_virq during the steps) and the guest's jiffies.

On a host whose KVM has KVM_GUESTDBG_BLOCKIRQ (Linux >= 5.15) QEMU steps
with flags 0x3 and nothing may be injected: the known-good run. On a host
without it (Debian 11's 5.10 under kvm-nested) QEMU falls back to flags 0x1
and the host's KVM injects the timer interrupt inside steps: the same test
is then the positive control of the bug this project exists for, and both
views must see it. Under TCG there is no host KVM: QEMU's own flags (0x7)
must keep the guest's clock still.
"""

from pathlib import Path

import pytest
from guestdbg import scenarios
from guestdbg.judges.injections import GUEST_TIMER, INJECTED
from guestdbg.pytest_plugin import expect_clean, expect_found
from guestdbg.scenarios import Session
from guestdbg.scenarios.injections import host_blockirq

pytestmark = pytest.mark.guest


def test_single_steps_take_interrupts_only_where_kvm_lacks_blockirq(
    request: pytest.FixtureRequest, session: Session, artifacts: Path
) -> None:
    blockirq = host_blockirq(session)
    result = scenarios.step_injection_run(session, steps=200)
    request.node.user_properties.append(("sstep_flags_in_effect", result.data["sstep_flags"]))
    if blockirq is False:
        # Positive control: no BLOCKIRQ, QEMU's fallback flags 0x1.
        expect_found(request, result, artifacts, GUEST_TIMER, allowed=(INJECTED,))
        if session.guest.placement.kvm_tracer() is not None:
            assert INJECTED in result.kinds(), result.kinds()
    else:
        expect_clean(request, result, artifacts)


@pytest.mark.control
def test_control_injections_seen_when_qemu_steps_with_flags_0x1(
    request: pytest.FixtureRequest, session: Session, artifacts: Path
) -> None:
    """Any KVM host: QEMU told to step with ENABLE only (0x1), as QEMU < 7.0 did."""
    if session.guest.spec.accel == "tcg":
        pytest.skip("under TCG no KVM injects interrupts: QEMU's own timer runs the guest's clock")
    result = scenarios.step_injection_run(session, steps=200, sstep=0x1)
    expect_found(request, result, artifacts, GUEST_TIMER, allowed=(INJECTED,))
    if session.guest.placement.kvm_tracer() is not None:
        assert INJECTED in result.kinds(), result.kinds()
