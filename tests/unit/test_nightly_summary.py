"""The nightly verdict and summary from case outcomes."""

from guestdbg.cli.nightly import CaseResult, markdown, summarize


def case(
    test: str,
    point: str,
    outcome: str,
    findings: list[str] | None = None,
    verdict: str = "",
    message: str = "",
) -> CaseResult:
    if outcome in ("failed", "error") and not verdict:
        verdict = "defect"
    return CaseResult(
        f"t.py::{test}[{point}]",
        test,
        point,
        outcome,
        verdict=verdict,
        findings=findings or [],
        message=message,
    )


def test_verdicts() -> None:
    good = [
        case("a", "tcg-smp2", "passed"),
        case("b", "tcg-smp2", "xfailed"),
        case("c", "kvm-smp2", "skipped"),
    ]
    assert summarize(good)["verdict"] == 0
    defect = [*good, case("d", "tcg-smp2", "failed", ["stuck-breakpoint"])]
    assert summarize(defect)["verdict"] == 1
    infra = [*defect, case("e", "tcg-smp2", "error", verdict="cannot-judge")]
    assert summarize(infra)["verdict"] == 125
    assert summarize([case("c", "kvm-smp2", "skipped")])["verdict"] == 125  # nothing judged
    assert summarize([])["verdict"] == 125


def test_a_failure_is_a_defect_only_when_a_judge_said_so() -> None:
    # QEMU killed mid-test: the test failed, but no judge found anything.
    died = case("d", "tcg-smp2", "failed", verdict="cannot-judge")
    assert died.infrastructure
    assert summarize([case("a", "tcg-smp2", "passed"), died])["verdict"] == 125


def test_an_interrupted_run_is_never_good() -> None:
    cases = [case("a", "tcg-smp2", "passed")]
    assert summarize(cases, interrupted=143)["verdict"] == 143
    md = markdown(cases, summarize(cases, interrupted=130), ["host: test"])
    assert "verdict: **interrupted (130)**" in md


def test_the_cause_of_a_failure_is_not_cut_off() -> None:
    text = "Traceback\n" + "frame\n" * 2000 + "GuestError: QEMU (pid 1) killed by signal 9"
    failed = CaseResult("t.py::x[p]", "x", "p", "failed", verdict="cannot-judge", message=text)
    failed.cause = "GuestError: QEMU (pid 1) killed by signal 9"
    md = markdown([failed], summarize([failed]), [])
    assert "- cause: GuestError: QEMU (pid 1) killed by signal 9" in md


def test_detector_rates_over_repeats() -> None:
    runs = [
        case("loop", "tcg-smp2-sw", "failed", ["stuck-breakpoint"]),
        case("loop", "tcg-smp2-sw", "passed"),
        case("loop", "tcg-smp2-sw", "failed", ["stuck-breakpoint", "no-progress"]),
    ]
    rates = summarize(runs)["detector_rates"]["loop[tcg-smp2-sw]"]
    assert rates == {"runs": 3, "fired": {"no-progress": "1/3", "stuck-breakpoint": "2/3"}}
    md = markdown(runs, summarize(runs), ["host: test"])
    assert "| loop | failed 2/3, passed 1/3 |" in md
    assert "stuck-breakpoint 2/3" in md


def test_a_control_that_fires_more_than_its_defect_is_flagged() -> None:
    control = [
        case("ctl", "tcg-smp2", "passed", ["stepped-into-interrupt-handler"]),
        case("ctl", "tcg-smp2", "failed", ["stepped-into-interrupt-handler", "guest-warning"]),
    ]
    for c in control:
        c.expected = ["stepped-into-interrupt-handler", "step-stalled"]
    rates = summarize(control)["detector_rates"]["ctl[tcg-smp2]"]
    assert rates["found_its_defect"] == "2/2"
    assert rates["fired_besides"] == {"guest-warning": "1/2"}
    md = markdown(control, summarize(control), [])
    assert "**fired besides its defect: guest-warning 1/2**" in md


def test_the_summary_names_each_nested_host() -> None:
    c = case("a", "kvm-nested-debian-5.10-smp2-hw", "passed")
    c.nested = {
        "host_kernel": "5.10.0-46-cloud-amd64 (linux-image-5.10.0-46-cloud-amd64 5.10.262-1)",
        "kvm_guest_debug2": "KVM_CAP_SET_GUEST_DEBUG2 = 0x0 (none)",
        "sstep_flags_reported": "supported ENABLE=1; default 0x1",
        "outer_level": "TCG (QEMU 10.0.2, -cpu max)",
    }
    summary = summarize([c])
    assert summary["nested_hosts"] == {"kvm-nested-debian-5.10-smp2": c.nested}
    text = markdown([c], summary, [])
    assert "## Nested KVM hosts" in text and "default 0x1" in text and "QEMU 10.0.2" in text


def test_a_run_without_nested_hosts_has_no_nested_section() -> None:
    # Every case records this machine's kernel; only kvm-nested cases an outer level.
    c = case("a", "tcg-smp2", "passed")
    c.nested = {"host_kernel": "6.1.0-28-amd64"}
    summary = summarize([c])
    assert summary["nested_hosts"] == {}
    assert "## Nested KVM hosts" not in markdown([c], summary, [])


def test_a_rerun_is_said_with_why_its_first_attempt_failed() -> None:
    """A rerun case's verdict is its second attempt's; the summary keeps why
    the first failed (a sentence as Guest.exit_reason words a guest's end)."""
    rerun = case("a", "kvm-nested-debian-6.1-smp2-hw", "passed")
    rerun.reruns.append("GuestError: QEMU (pid 4242) exited with status 0")
    cases = [rerun, case("b", "tcg-smp2", "passed")]
    summary = summarize(cases)
    assert summary["verdict"] == 0
    assert summary["reruns"] == {rerun.nodeid: rerun.reruns}
    text = markdown(cases, summary, [])
    assert "## Reruns" in text
    assert f"- `{rerun.nodeid}`: GuestError: QEMU (pid 4242) exited with status 0" in text
    assert "## Reruns" not in markdown(cases[1:], summarize(cases[1:]), [])
