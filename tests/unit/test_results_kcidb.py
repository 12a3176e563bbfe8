"""KCIDB data from recorded real nightly outputs, validated with kcidb-io."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import kcidb_io
import pytest
from guestdbg.cli.main import main
from guestdbg.errors import GuestdbgError
from guestdbg.images.trees import KernelTree
from guestdbg.results.kcidb import kcidb_data, validate, write_kcidb
from guestdbg.results.nights import Night
from guestdbg.results.record import describe_tree

NIGHTS = Path(__file__).resolve().parents[1] / "fixtures" / "nightly"


def kcidb_tests(night: str) -> dict[str, dict]:
    data = kcidb_data(Night.load(NIGHTS / night), "guestdbg")
    kcidb_io.schema.LATEST.validate(data)
    return {t["path"]: t for t in data["tests"]}


def test_every_recorded_night_is_valid_kcidb_with_one_test_per_case() -> None:
    for night in ("n1", "n2", "n3", "n4", "nested-5.10", "nested-rerun"):
        n = Night.load(NIGHTS / night)
        data = kcidb_data(n, "guestdbg")
        kcidb_io.schema.LATEST.validate(data)
        assert len(data["tests"]) == len(n.cases) == len({t["id"] for t in data["tests"]})
        assert len(data["checkouts"]) == len(data["builds"]) == 1


def test_a_planted_defect_is_fail_and_a_control_that_found_its_defect_is_pass() -> None:
    tests = kcidb_tests("n3")  # --sstep 0x1
    loop = tests[
        "guestdbg.test_resume_loop_with_an_nmi_pending_at_every_stop_makes_progress.tcg-smp2-sw"
    ]
    assert loop["status"] == "FAIL"
    assert loop["misc"]["findings"] == ["no-progress", "stuck-breakpoint"]
    assert loop["comment"].startswith("debug defect found: no-progress")
    assert "stuck_breakpoint" in loop["log_excerpt"]
    names = {f["name"] for f in loop["output_files"]}
    assert {"findings.json", "commands.log"} <= names and loop["log_url"].endswith("console.log")
    control = tests["guestdbg.test_control_stuck_breakpoint_when_steps_take_interrupts.tcg-smp2-sw"]
    assert control["status"] == "PASS" and control["misc"]["control_of"] == "stuck-breakpoint"


def test_a_case_that_could_not_judge_is_error_with_its_cause() -> None:
    (t,) = kcidb_tests("n4").values()  # a 0.5 s boot deadline
    assert t["status"] == "ERROR"
    assert t["comment"].startswith("could not judge: ") and "GUESTDBG-READY" in t["log_excerpt"]


def test_a_case_that_passed_when_rerun_is_pass_with_why_it_was_rerun() -> None:
    tests = kcidb_tests("nested-rerun")  # its nested host killed under the first attempt
    t = tests["guestdbg.test_the_guest_boots_clean.kvm-nested-debian-6_1-smp2"]
    assert t["status"] == "PASS"
    (why,) = t["misc"]["reruns"]
    assert why.startswith("the guest could not be started") and "killed by signal 9" in why
    steady = tests[
        "guestdbg.test_single_steps_follow_the_instruction_stream.kvm-nested-debian-6_1-smp2"
    ]
    assert "reruns" not in steady["misc"]


def test_xfail_stays_visible_with_its_cause_and_skip_is_skip() -> None:
    tests = kcidb_tests("n1")
    xfail = tests["guestdbg.test_lx_symbols_survives_module_load_and_reload.tcg-smp2"]
    assert xfail["status"] == "DONE"
    assert xfail["comment"].startswith("expected failure (xfail): ") and xfail["misc"]["xfail"]
    assert xfail["misc"]["findings"]  # what it found is kept
    skipped = tests["guestdbg.test_control_injections_seen_when_qemu_steps_with_flags_0x1.tcg-smp2"]
    assert skipped["status"] == "SKIP" and "TCG" in skipped["comment"]


def test_the_environment_names_qemu_gdb_host_and_kvm() -> None:
    t = kcidb_tests("n1")["guestdbg.test_the_guest_boots_clean.tcg-smp2"]
    env = t["environment"]
    assert "QEMU 7.2.22" in env["comment"] and "gdb 13.1" in env["comment"]
    assert env["misc"]["accel"] == "tcg" and env["misc"]["host_kernel"]
    assert "BLOCKIRQ" in env["misc"]["host_kvm"]


def test_a_tree_that_is_not_a_git_checkout_is_its_release_and_build_hash() -> None:
    data = kcidb_data(Night.load(NIGHTS / "n1"), "my_lab", "https://lab.example/n1")
    (co,) = data["checkouts"]
    assert co["id"].startswith("my_lab:") and "git_commit_hash" not in co
    assert co["misc"]["release"] == "6.1.192-guestdbg" and len(co["misc"]["bzimage_sha256"]) == 64
    (b,) = data["builds"]
    assert b["checkout_id"] == co["id"] and b["architecture"] == "x86_64"
    urls = [f["url"] for t in data["tests"] for f in t.get("output_files", [])]
    assert urls and all(u.startswith("https://lab.example/n1/scenarios/") for u in urls)


def test_a_git_checkout_is_its_commit(tmp_path: Path) -> None:
    root = tmp_path / "linux"
    (root / "arch/x86/boot").mkdir(parents=True)
    for f in ("arch/x86/boot/bzImage", "vmlinux", ".config"):
        (root / f).write_text(f)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "v6.13"], check=True)
    tree = KernelTree(
        root,
        root / "arch/x86/boot/bzImage",
        root / "vmlinux",
        root / "x",
        "6.13.0",
        root / ".config",
    )
    info = describe_tree("mine", tree)
    assert len(info["git_commit"]) == 40 and info["git_dirty"] is False
    night = Night.load(NIGHTS / "n4")
    night.trees = [info | {"root": night.cases[0].properties["kernel_tree"]}]
    data = kcidb_data(night, "guestdbg")
    validate(data)
    assert data["checkouts"][0]["git_commit_hash"] == info["git_commit"]


def test_invalid_data_is_never_written(tmp_path: Path) -> None:
    data = kcidb_data(Night.load(NIGHTS / "n4"), "guestdbg")
    data["tests"][0]["status"] = "BROKEN"
    with pytest.raises(GuestdbgError, match="tests/0/status"):
        write_kcidb(data, tmp_path / "k.json")
    assert not (tmp_path / "k.json").exists()


def test_the_kcidb_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kcidb", str(NIGHTS / "n3"), "--out", str(tmp_path / "k.json")]) == 0
    kcidb_io.schema.LATEST.validate(json.loads((tmp_path / "k.json").read_text()))
    assert main(["kcidb", str(NIGHTS / "n3"), "--origin", "Bad-Name"]) == 2
    assert "lowercase" in capsys.readouterr().err
    assert main(["kcidb", str(tmp_path)]) == 2  # not a nightly directory


def test_a_night_from_before_trees_json_still_converts(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(NIGHTS / "n3", tmp_path / "n3")
    (tmp_path / "n3" / "trees.json").unlink()
    data = kcidb_data(Night.load(tmp_path / "n3"), "guestdbg")
    validate(data)
    (co,) = data["checkouts"]
    assert co["misc"]["release"] == "6.1.192-guestdbg" and "bzimage_sha256" not in co["misc"]
    assert not any(t["misc"].get("kernel_tree_unrecorded") for t in data["tests"])


def test_a_nested_case_names_its_host_its_blockirq_bits_and_the_outer_level() -> None:
    tests = kcidb_tests("nested-5.10")  # Debian's 5.10 as the nested host: no BLOCKIRQ
    t = tests[
        "guestdbg.test_single_steps_take_interrupts_only_where_kvm_lacks_blockirq"
        ".kvm-nested-debian-5_10-smp2"
    ]
    nested = t["environment"]["misc"]["nested_host"]
    assert nested["host_kernel"].startswith("5.10.0-46-cloud-amd64")
    assert nested["kvm_guest_debug2"].startswith("KVM_CAP_SET_GUEST_DEBUG2 = 0x0")
    assert nested["outer_level"] == "TCG (QEMU 10.0.2, -cpu max)"
    assert "default 0x1" in nested["sstep_flags_reported"]
    assert "outer level TCG (QEMU 10.0.2" in t["environment"]["comment"]
    assert t["status"] == "PASS" and t["misc"]["host_injections"] == 120
