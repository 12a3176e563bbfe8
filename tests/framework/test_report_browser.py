"""The HTML report as a person sees it: rendered by headless Chromium from
recorded real nightly outputs (three nights, the last with the defect
planted), a screenshot taken, the elements that must be there checked."""

from __future__ import annotations

import re
from pathlib import Path

from guestdbg.cli.main import main

from tests.framework.chromium import distinct_colours, render

NIGHTS = Path(__file__).resolve().parents[1] / "fixtures" / "nightly"


def test_the_report_over_three_nights_renders_in_chromium(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    nights = [str(NIGHTS / n) for n in ("n1", "n2", "n3")]
    assert main(["report", *nights, "--out", str(out)]) == 0
    page = render(out, tmp_path / "chromium")
    dom = page.dom
    assert "Latest matrix: n3" in dom and 'id="matrix"' in dom and 'id="history"' in dom
    row = re.search(
        r"test_single_steps_follow_the_instruction_stream\[tcg-smp2\]</code>.*?</tr>", dom, re.S
    )
    assert row and 'class="failing-since">n3 (2026-12-07 10:47)<' in row.group(0)
    assert "DEFECT" in dom and "stepped-into-interrupt-handler" in dom
    # The pictures are there and loaded (an image that failed to load has no size).
    figures = re.findall(r'<figure class="plot ([\w-]+)"><img src="([^"]+)"', dom)
    kinds = {k for k, _ in figures}
    assert {"step-trace", "resume-loop", "injection-timeline"} <= kinds
    for _, src in figures:
        assert (tmp_path / src).stat().st_size > 5000
    assert page.screenshot.stat().st_size > 50_000
    assert distinct_colours(page.screenshot) > 50  # not a blank page
