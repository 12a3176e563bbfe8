"""The guestdbg command as a user meets it: statuses and one-sentence errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from guestdbg.runtime import host

from tests.framework.conftest import guestdbg

REPO = Path(__file__).resolve().parents[2]


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
    assert re.search(r"(booted|restored) 6\.1\S* with 1 CPU\(s\) under tcg", run.stderr)
    # The first boot of this configuration made its snapshot: the next one restores it.
    again = guestdbg("boot", "--smp", "1", "--", "exit 4")
    assert again.returncode == 4, again.stderr
    assert re.search(r"restored 6\.1\S* .*\(snapshot [0-9a-f]{16}\)", again.stderr), again.stderr
    booted = guestdbg("boot", "--smp", "1", "--no-snapshot", "--", "true")
    assert booted.returncode == 0 and "booted 6.1" in booted.stderr, booted.stderr


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


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--smp", "x"], "argument --smp: 'x' is not a whole number"),
        (["run", "--smp", "0"], "argument --smp: '0' must be at least 1"),
        (["run", "--sstep", "zz"], "argument --sstep: 'zz' is not a number"),
        (["run", "--bp-kind", "xx"], "argument --bp-kind: unknown breakpoint kind xx"),
        (["run", "--accel", "foo"], "argument --accel: unknown accelerator foo"),
        (["run", "--repeat", "0"], "argument --repeat: '0' must be at least 1"),
        (["run", "--kernel-tree", "/nonexistent"], "'/nonexistent' is neither a kernel tree"),
        (["nightly", "--out", "x", "--smp", "x"], "argument --smp: 'x' is not a whole number"),
        (["repro", "step", "--sstep", "zz"], "argument --sstep: 'zz' is not a number"),
        (["boot", "--memory", "-1", "--", "true"], "argument --memory: '-1' must be at least 1"),
    ],
)
def test_a_bad_option_is_one_sentence_and_exit_2(args: list[str], says: str) -> None:
    run = guestdbg(*args, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert says in line and "Traceback" not in run.stderr


def test_an_unwritable_path_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    afile = tmp_path / "a-file"
    afile.write_text("")
    run = guestdbg("nightly", "--out", str(afile), timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"guestdbg: cannot write the results to {afile}: File exists"
    ]
    boot = guestdbg("boot", "--artifacts", "/proc/guestdbg", "--", "true")
    assert boot.returncode == 2
    assert boot.stderr.strip().splitlines() == [
        "guestdbg: cannot write the guest's artifacts to /proc/guestdbg: No such file or directory"
    ]


def test_option_values_are_never_test_paths(tmp_path: Path) -> None:
    """A path given as an option value in the space-separated form (an
    existing directory) must not replace the suite as pytest's test path."""
    run = guestdbg(
        "run", "--artifacts", str(tmp_path), "--kernel-tree", "default", "--collect-only", "-q",
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "tests collected" in run.stdout and "no tests ran" not in run.stdout


@pytest.mark.guest
def test_the_report_names_the_qemu_that_was_given(tmp_path: Path) -> None:
    """--qemu is the QEMU under test: its path (and its version) are what the
    JUnit properties and the header name, not the default QEMU's."""
    mine = tmp_path / "bin" / "qemu-system-x86_64"
    mine.parent.mkdir()
    mine.symlink_to(host.probe().qemu.path or "/usr/bin/qemu-system-x86_64")
    run = guestdbg(
        "nightly", "--out", str(tmp_path / "out"), "--qemu", str(mine), "-k", "boots_clean",
        timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert f'name="qemu" value="{mine}"' in junit
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert f"({mine})" in summary
