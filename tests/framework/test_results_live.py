"""A live nightly's results where people look: ``--kcidb`` validated by
kcidb-io with one test per case and honest statuses (a planted defect is
FAIL, a case that cannot judge is ERROR), and its report.html rendered in
headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import kcidb_io
import pytest

from tests.framework.chromium import distinct_colours, render

pytestmark = pytest.mark.guest
REPO = Path(__file__).resolve().parents[2]


def nightly(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guestdbg", "nightly", "--out", str(out), *args, "-q"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
        check=False,
    )


def test_a_planted_defect_is_fail_in_kcidb_and_shows_in_the_report(tmp_path: Path) -> None:
    out = tmp_path / "n1"
    kcidb = out / "kcidb.json"
    run = nightly(
        out, "--kcidb", str(kcidb), "--kcidb-origin", "my_lab", "--sstep", "0x1",
        "-k", "single_steps_follow or (nmi_pending and sw)",
    )  # fmt: skip
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    data = json.loads(kcidb.read_text())
    kcidb_io.schema.LATEST.validate(data)
    summary = json.loads((out / "summary.json").read_text())
    assert len(data["tests"]) == len(summary["cases"]) == 2
    tests = {t["path"]: t for t in data["tests"]}
    stepping = tests["guestdbg.test_single_steps_follow_the_instruction_stream.tcg-smp2"]
    assert stepping["status"] == "FAIL" and stepping["origin"] == "my_lab"
    assert "stepped-into-interrupt-handler" in stepping["misc"]["findings"]
    assert stepping["environment"]["misc"]["sstep_flags"] == "0x1"
    assert {f["name"] for f in stepping["output_files"]} >= {"findings.json"}
    (checkout,) = data["checkouts"]
    assert len(checkout["misc"]["bzimage_sha256"]) == 64
    # The report written beside summary.md, as a person opens it.
    assert (out / "report.html").is_file() and (out / "summary.md").is_file()
    page = render(out / "report.html", tmp_path / "chromium")
    assert "DEFECT" in page.dom and "stepped-into-interrupt-handler" in page.dom
    assert re.search(r'<figure class="plot step-trace"><img src="report-assets/[^"]+"', page.dom)
    assert distinct_colours(page.screenshot) > 50
    # The resume loop is drawn over time: each hit keeps when gdb reported it.
    (loop,) = (out / "report-assets").glob("*resume-loop.svg")
    assert "seconds since the first resume" in loop.read_text()


def test_a_case_that_cannot_judge_is_error_in_kcidb(tmp_path: Path) -> None:
    kcidb = tmp_path / "kcidb.json"
    kcidb.write_text("stale")  # an older night's file never survives a new run
    run = nightly(
        tmp_path / "out", "--kcidb", str(kcidb), "-k", "slow_handler and sw",
        "--boot-timeout", "0.5", "--no-snapshot",
    )  # fmt: skip
    assert run.returncode == 125, run.stdout[-3000:]
    data = json.loads(kcidb.read_text())
    kcidb_io.schema.LATEST.validate(data)
    (test,) = data["tests"]
    assert test["status"] == "ERROR" and test["comment"].startswith("could not judge: ")
