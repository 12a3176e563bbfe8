"""The guestdbg command as a user meets it: statuses and one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from guestdbg.runtime import host

REPO = Path(__file__).resolve().parents[2]


def guestdbg(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guestdbg", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def test_probe_json_says_why_kvm_is_or_is_not_usable() -> None:
    run = guestdbg("probe", "--json")
    assert run.returncode == 0
    data = json.loads(run.stdout)
    assert data["kvm"]["reason"] == host.probe_kvm().reason
    assert "tcg" in data["usable_accels"]


@pytest.mark.guest
def test_boot_runs_the_command_and_exits_with_its_status(no_leftover_qemu: None) -> None:
    run = guestdbg("boot", "--smp", "1", "--", "uname -r; exit 3")
    assert run.returncode == 3, run.stderr
    assert run.stdout.strip().endswith("-guestdbg")
    assert "booted 6.1" in run.stderr and "under tcg" in run.stderr


@pytest.mark.guest
def test_boot_with_unusable_kvm_is_one_sentence() -> None:
    if host.probe().kvm.usable:
        pytest.skip("KVM is usable on this host")
    run = guestdbg("boot", "--accel", "kvm", "--", "true")
    assert run.returncode == 125
    assert run.stderr.strip().splitlines() == [
        f"guestdbg: accel=kvm was requested but KVM is not usable: {host.probe().kvm.reason}"
    ]


def test_a_kernel_tree_that_is_not_one_is_one_sentence(tmp_path: Path) -> None:
    run = guestdbg("images", "--kernel-tree", str(tmp_path))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"guestdbg: kernel tree {tmp_path} is not usable: no arch/x86/boot/bzImage: "
        "build the tree first ('make bzImage')"
    ]
    assert "Traceback" not in run.stderr
