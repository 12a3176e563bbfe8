"""The HTML report over recorded real nightly outputs (three nights, the
last with the interrupt-while-stepping defect planted by --sstep 0x1)."""

from __future__ import annotations

import re
from pathlib import Path

from guestdbg.cli.main import main
from guestdbg.judges.injections import parse_kvm_trace, stepped_vcpu_timeline
from guestdbg.results import plots
from guestdbg.results.html_report import histories
from guestdbg.results.nights import Night, load_nights

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NIGHTS = [FIXTURES / "nightly" / n for n in ("n1", "n2", "n3")]
REGRESSED = "test_single_steps_follow_the_instruction_stream[tcg-smp2]"


def test_the_history_names_the_night_a_case_started_failing() -> None:
    nights = load_nights(reversed(NIGHTS))  # any order: sorted by start time
    assert [n.path.name for n in nights] == ["n1", "n2", "n3"]
    h = {x.key: x for x in histories(nights)}[REGRESSED]
    assert [c.status for _, c in h.runs] == ["passed", "passed", "defect"]
    assert h.failing_since is nights[2] and h.first_failing is nights[2]
    assert h.flake_rate == 0  # a regression that stays is not a flake
    assert h.detector_rates() == {"stepped-into-interrupt-handler": "1/3"}
    steady = {x.key: x for x in histories(nights)}["test_the_guest_boots_clean[tcg-smp2]"]
    assert steady.failing_since is None and steady.flake_rate == 0


def test_the_report_has_matrix_history_findings_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", *map(str, NIGHTS), "--out", str(out)]) == 0
    text = out.read_text()
    assert "id='matrix'" in text and "id='history'" in text
    row = re.search(rf"<code>{re.escape(REGRESSED)}</code>.*?</tr>", text, re.S)
    assert row and "class='failing-since'>n3 (2026-12-07 10:47)<" in row.group(0)
    assert "stepped-into-interrupt-handler" in text and "asm_sysvec_apic_timer_interrupt" in text
    assets = tmp_path / "report-assets"
    svgs = sorted(p.name for p in assets.glob("*.svg"))
    assert any("single_steps_follow" in s and s.endswith("step-trace.svg") for s in svgs)
    assert any(s.endswith("resume-loop.svg") for s in svgs)
    assert any(s.endswith("injection-timeline.svg") for s in svgs)
    # Every link and picture resolves offline, relative to the report.
    for ref in re.findall(r"(?:href|src)=['\"]([^'\"#][^'\"]*)['\"]", text):
        assert (tmp_path / ref).resolve().exists(), ref
    assert "http://" not in text and "https://" not in text and "<script" not in text


def test_one_night_is_a_report_without_history(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(FIXTURES / "nightly" / "n4"), "--out", str(out)]) == 0
    text = out.read_text()
    assert "id='history'" not in text and "cannot judge" in text and "GUESTDBG-READY" in text


def test_the_injection_timeline_reads_the_hosts_trace_as_the_judge_does() -> None:
    trace = (FIXTURES / "nested" / "host-trace-debian-5.10-sstep0x1.txt").read_text()
    steps, injections = stepped_vcpu_timeline(trace)
    judged = parse_kvm_trace(trace)
    assert len(injections) == len(judged.injected()) == 111
    assert len(steps) == judged.exit_reasons(judged.stepped_threads)["DB excp"] == 200


def test_a_step_trace_marks_the_handler_entry_the_judge_found() -> None:
    night = Night.load(NIGHTS[2])
    case = next(c for c in night.cases if c.key == REGRESSED)
    assert case.scenario is not None
    svg = plots.step_trace(case.scenario["data"], "t")
    assert svg is not None and "interrupt-handler entry (1)" in svg
    assert "step 11: asm_sysvec_apic_timer_interrupt+0x0" in svg  # as the judge numbers it


def test_the_injection_timeline_of_a_nested_night(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(FIXTURES / "nightly" / "nested-5.10"), "--out", str(out)]) == 0
    (svg,) = [
        p
        for p in (tmp_path / "r-assets").glob("*injection-timeline.svg")
        if "lacks_blockirq" in p.name
    ]
    text = svg.read_text()
    assert "kvm_inj_virq (120)" in text and "steps (200)" in text and "(+118)" in text


def test_a_case_rerun_in_its_night_is_marked_and_counts_as_a_flake(tmp_path: Path) -> None:
    """A real night whose nested host was killed under the first case: the
    case passed when rerun. The report marks it, says why the first attempt
    failed, and its flake rate counts the failed attempt."""
    night = Night.load(FIXTURES / "nightly" / "nested-rerun")
    rerun = {c.key: c for c in night.cases}[
        "test_the_guest_boots_clean[kvm-nested-debian-6.1-smp2]"
    ]
    assert rerun.status == "passed" and len(rerun.reruns) == 1
    assert "killed by signal 9" in rerun.reruns[0]
    h = {x.key: x for x in histories([night])}[rerun.key]
    assert h.flake_rate == 0.5  # the failed attempt, then the pass
    steady = {x.key: x for x in histories([night])}[
        "test_single_steps_follow_the_instruction_stream[kvm-nested-debian-6.1-smp2]"
    ]
    assert steady.flake_rate == 0
    out = tmp_path / "r.html"
    assert main(["report", str(night.path), "--out", str(out)]) == 0
    text = out.read_text()
    assert "pass (rerun 1\u00d7)" in text
    assert "attempt 1 failed: the guest could not be started" in text
