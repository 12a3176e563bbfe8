"""guestdbg nightly's exit status is what git bisect run needs: 0 good,
1 a debug defect found, 125 could not judge."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.guest
REPO = Path(__file__).resolve().parents[2]
ONE_CASE = ["-k", "slow_handler and sw"]


def nightly(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guestdbg", "nightly", "--out", str(out), *args, "-q"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
        check=False,
    )


def test_a_healthy_run_exits_0_with_junit_and_summaries(tmp_path: Path) -> None:
    run = nightly(tmp_path, *ONE_CASE)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdict"] == 0 and summary["outcomes"] == {"passed": 1}
    assert "<testcase" in (tmp_path / "junit.xml").read_text()
    junit = (tmp_path / "junit.xml").read_text()
    for prop in ("accel", "smp", "kernel_release", "qemu_version", "host_kernel", "sstep_flags"):
        assert f'name="{prop}"' in junit
    md = (tmp_path / "summary.md").read_text()
    assert "| test_resume_loop_with_a_slow_handler_makes_progress | passed |" in md


def test_a_run_with_the_defect_planted_exits_1(tmp_path: Path) -> None:
    # QEMU single-step flags 0x1 let the pending NMI in while stepping off the
    # breakpoint: the known-good scenario becomes the stuck-breakpoint bug.
    run = nightly(tmp_path, "-k", "nmi_pending and sw", "--sstep", "0x1")
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    (case,) = summary["cases"]
    assert "stuck-breakpoint" in case["findings"] and not case["infrastructure"]
    assert Path(case["artifacts"], "findings.json").exists()  # kept for the failure
    assert "## Failures" in (tmp_path / "summary.md").read_text()


def test_a_guest_that_cannot_boot_exits_125(tmp_path: Path) -> None:
    # A boot, not a restore (which can take less than 0.5 s).
    run = nightly(tmp_path, *ONE_CASE, "--boot-timeout", "0.5", "--no-snapshot")
    assert run.returncode == 125, run.stdout[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["infrastructure"] and "GUESTDBG-READY" in summary["cases"][0]["message"]


def test_a_broken_tree_exits_125_with_the_reason(tmp_path: Path) -> None:
    tree = tmp_path / "linux"
    tree.mkdir()
    run = nightly(tmp_path / "out", "--kernel-tree", str(tree))
    assert run.returncode == 125
    assert "no arch/x86/boot/bzImage" in run.stdout
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["problems"]
    # The night is still a row of the report's history, its problem said.
    report = (tmp_path / "out" / "report.html").read_text()
    assert "could not judge (125)" in report and "no arch/x86/boot/bzImage" in report


def test_parallel_workers_run_the_matrix_asked_for_and_keep_every_scenario(
    tmp_path: Path,
) -> None:
    """With -n (pytest-xdist) the workers parse only pytest's argv: the suite
    values (here --smp 1, the default is 2) travel to them, and each worker
    keeps its passing cases' scenarios for the report (before, the workers
    ran the default matrix, tcg-smp2, and kept no scenario)."""
    run = nightly(
        tmp_path, "--accel", "tcg", "--smp", "1", "-n", "2",
        "-k", "boots_clean or single_steps_follow",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert sorted(c["point"] for c in summary["cases"]) == ["tcg-smp1", "tcg-smp1"]
    kept = sorted(p.name for p in (tmp_path / "scenarios").glob("*.json"))
    assert len(kept) == 2 and all("tcg-smp1" in name for name in kept), kept
    assert "step-trace.svg" in (tmp_path / "report.html").read_text()


@pytest.mark.distro
def test_nightly_against_the_distribution_kernel(tmp_path: Path) -> None:
    run = nightly(tmp_path, "--kernel-tree", "debian-cloud", *ONE_CASE)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert any("cloud-amd64" in line for line in summary["header"])
    (case,) = summary["cases"]
    assert case["point"].startswith("debian-cloud-tcg-smp2") and case["outcome"] == "passed"
