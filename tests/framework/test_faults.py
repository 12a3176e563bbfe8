"""Verdicts a bisect can trust, tried the way CI breaks runs: faults injected
into real ``guestdbg nightly`` runs must give 125 (never 1, never 0), fast,
with one sentence naming what died, and nothing left running or on disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.framework.conftest import qemu_pids

pytestmark = pytest.mark.guest
REPO = Path(__file__).resolve().parents[2]
STOP_TIMEOUT = 600


def nightly(out: Path, *args: str, fault: str = "", delay: float = 1.0) -> tuple[int, float, str]:
    env = {**os.environ, "GUESTDBG_FAULT": fault, "GUESTDBG_FAULT_DELAY": str(delay)}
    env["PYTHONPATH"] = f"{REPO}:{env.get('PYTHONPATH', '')}"
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "guestdbg", "nightly", "--out", str(out), *args, "-q",
         "-p", "tests.framework.faults"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=600, check=False,
    )  # fmt: skip
    return run.returncode, time.monotonic() - started, run.stdout + run.stderr


def leftover_rundirs(pid: int) -> list[Path]:
    return list(Path("/tmp").glob(f"guestdbg-run-{pid}-*"))


def summary_of(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("kill-qemu", "killed by signal 9"),
        ("stop-qemu", "is stopped (process state T"),
        ("kill-gdb", "gdb exited unexpectedly (status -9)"),
    ],
)
def test_a_fault_mid_test_cannot_judge_and_is_found_in_seconds(
    tmp_path: Path, fault: str, says: str, no_leftover_qemu: None
) -> None:
    # A stop timeout far beyond the run: a fault found by waiting it out would show.
    status, seconds, output = nightly(
        tmp_path, "-k", "early_boot", "--stop-timeout", str(STOP_TIMEOUT), fault=fault
    )
    assert status == 125, output[-3000:]
    (case,) = summary_of(tmp_path)["cases"]
    assert case["verdict"] == "cannot-judge" and case["infrastructure"], case
    assert says in case["cause"], case["cause"]
    # Found by the event (QEMU's exit, gdb's EOF, the liveness check), not by
    # a deadline: the message names what died, and the run ends long before
    # the stop timeout would have.
    deadline_messages = ("did not stop within", "gdb gave no", "no end of command")
    assert not any(m in case["cause"] for m in deadline_messages), case["cause"]
    assert seconds < STOP_TIMEOUT / 2, f"the fault took {seconds:.1f}s to end the run"
    assert f"cause: {case['cause']}" in (tmp_path / "summary.md").read_text()


def test_a_killed_shared_guest_is_rebooted_for_the_next_test(
    tmp_path: Path, no_leftover_qemu: None
) -> None:
    status, _, output = nightly(
        tmp_path, "-k", "test_breakpoints and not nmi and not control", "--bp-kind", "sw,hw",
        fault="kill-shared-qemu",
    )  # fmt: skip
    assert status == 0, output[-3000:]
    cases = summary_of(tmp_path)["cases"]
    assert len(cases) == 2 and all(c["outcome"] == "passed" for c in cases), cases
    junit = (tmp_path / "junit.xml").read_text()
    assert 'name="shared_guest_rebooted"' in junit and "killed by signal 9" in junit


def test_a_rerun_says_why_and_keeps_the_lost_attempts_evidence(
    tmp_path: Path, no_leftover_qemu: None
) -> None:
    """A case that ran again after losing its QEMU (--reruns, as the suite does
    under an outer TCG) passes, but the run's output names the lost attempt,
    its cause and its artifacts, and those artifacts are still there."""
    status, _, output = nightly(tmp_path, "-k", "early_boot", "--reruns", "1", fault="kill-qemu")
    assert status == 0, output[-3000:]
    (case,) = summary_of(tmp_path)["cases"]
    assert case["outcome"] == "passed", case
    section = output[output.index("guestdbg reruns") :]
    said, where = section.splitlines()[1:3]
    assert said.startswith(f"{case['nodeid']}: ran again after: ") and "killed by signal 9" in said
    kept = Path(where.split("that attempt's artifacts: ", 1)[1])
    assert kept.name.endswith(".attempt-1") and kept.parent == tmp_path / "artifacts", kept
    # early boot: the paused guest printed nothing yet; gdb's side of the lost
    # attempt (its MI transcript, its packets to QEMU's stub) is the evidence
    assert all((kept / log).stat().st_size > 0 for log in ("mi.log", "remote.log", "qmp.log"))
    assert not Path(case["artifacts"]).exists()  # the attempt that passed: removed as usual
    assert f"that attempt's artifacts: {kept}" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["sigterm", "ctrl-c"]
)
def test_an_interrupted_run_writes_an_interrupted_summary(
    tmp_path: Path, sig: signal.Signals, status: int, no_leftover_qemu: None
) -> None:
    """SIGTERM (what a CI timeout sends) and Ctrl-C: never "good"; junit.xml and
    a summary saying "interrupted" are written; nothing is left behind."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "guestdbg", "nightly", "--out", str(tmp_path), "-q",
         "-k", "early_boot"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not qemu_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert qemu_pids(), "no guest started"
    time.sleep(2)
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == status, output[-3000:]
    assert summary_of(tmp_path)["verdict"] == status
    assert f"interrupted ({status})" in (tmp_path / "summary.md").read_text()
    assert (tmp_path / "junit.xml").exists()
    assert not leftover_rundirs(proc.pid)


@pytest.mark.distro
def test_a_vmlinux_of_another_build_is_named(tmp_path: Path) -> None:
    """The default tree's bzImage with Debian's vmlinux: one sentence naming
    both builds; 2 for boot, 125 for nightly (a bisect skips it)."""
    from guestdbg.images import kernels

    default = kernels.kernel_tree("default")
    try:
        other = kernels.kernel_tree("debian-cloud")
    except Exception as err:  # not installable here
        pytest.skip(f"Debian's kernel is not available: {err}")
    tree = tmp_path / "linux"
    (tree / "arch" / "x86" / "boot").mkdir(parents=True)
    (tree / "arch" / "x86" / "boot" / "bzImage").symlink_to(default.bzimage)
    (tree / "vmlinux").symlink_to(other.vmlinux)
    (tree / "vmlinux-gdb.py").symlink_to(default.gdb_script)
    (tree / "scripts").symlink_to(default.root / "scripts")
    (tree / "include" / "config").mkdir(parents=True)
    (tree / "include" / "config" / "kernel.release").write_text(default.release + "\n")
    (tree / ".config").symlink_to(default.config)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    boot = subprocess.run(
        [sys.executable, "-m", "guestdbg", "boot", "--kernel-tree", str(tree), "--", "true"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert boot.returncode == 2, boot.stderr
    (line,) = boot.stderr.strip().splitlines()
    assert "is not the build of the bzImage" in line
    assert other.release in line and default.release in line
    status, _, output = nightly(tmp_path / "out", "--kernel-tree", str(tree))
    assert status == 125, output[-2000:]
    assert "is not the build of the bzImage" in output
