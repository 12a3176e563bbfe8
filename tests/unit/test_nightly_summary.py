"""The nightly verdict and summary from case outcomes."""

from guestdbg.cli.nightly import CaseResult, markdown, summarize


def case(
    test: str, point: str, outcome: str, findings: list[str] | None = None, infra: bool = False
) -> CaseResult:
    return CaseResult(
        f"tests/guest/t.py::{test}[{point}]",
        test,
        point,
        outcome,
        infrastructure=infra,
        findings=findings or [],
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
    infra = [*defect, case("e", "tcg-smp2", "error", infra=True)]
    assert summarize(infra)["verdict"] == 125
    assert summarize([case("c", "kvm-smp2", "skipped")])["verdict"] == 125  # nothing judged
    assert summarize([])["verdict"] == 125


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
