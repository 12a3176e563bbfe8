"""The host's single-step TF leaking into the guest (exc_debug WARN).

Every scenario runs the TF-leak detector over its console and the EFLAGS it
saw at stops; these are the detector's positive controls, one per half."""

from pathlib import Path

import pytest
from guestdbg import scenarios
from guestdbg.pytest_plugin import expect_clean, expect_found
from guestdbg.scenarios import Session
from guestdbg.scenarios.injections import host_blockirq

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


def test_interrupted_steps_leak_tf_only_where_kvm_lacks_blockirq(
    request: pytest.FixtureRequest, session: Session, artifacts: Path
) -> None:
    """The seed's TF leak produced by KVM: an NMI pending, a step started and
    interrupted at once, then continue (up to 48 rounds, until a WARN). Without BLOCKIRQ (QEMU
    steps with 0x1) KVM injects the NMI on the step's entry with the
    debugger's TF pushed on the handler's frame; a stop inside the handler
    followed by continue lets its IRET restore TF in the guest, which WARNs
    in exc_debug: the positive control. With BLOCKIRQ (0x3), and under TCG
    (QEMU steps without TF), nothing may leak."""
    blockirq = host_blockirq(session)
    result = scenarios.nmi_step_interrupted(session)
    request.node.user_properties.append(
        ("stops_after_the_interrupted_step", result.data.get("stops_after_the_interrupted_step"))
    )
    request.node.user_properties.append(("rounds", result.data.get("rounds")))
    if blockirq is False:
        expect_found(request, result, artifacts, "tf-leak-warn")
    else:
        expect_clean(request, result, artifacts)
