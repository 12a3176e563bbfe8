"""What a snapshot's key depends on, and how a damaged entry is told apart
(no QEMU runs here: the QEMU binaries are scripts printing a version)."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import time
from pathlib import Path

import pytest
from guestdbg.errors import SnapshotError
from guestdbg.runtime import snapshot_key as keys
from guestdbg.runtime import snapshot_store as snapshot
from guestdbg.runtime.snapshot_key import snapshot_key
from guestdbg.runtime.snapshot_store import Snapshot
from guestdbg.runtime.spec import GuestSpec

PREPARE = ("insmod /lib/modules/guestdbg_test.ko hot_cpu=-1",)


def fake_qemu(path: Path, version: str, extra: str = "") -> str:
    path.write_text(f"#!/bin/sh\necho 'QEMU emulator version {version}'\n{extra}")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def spec(tmp_path: Path) -> GuestSpec:
    kernel, initrd = tmp_path / "bzImage", tmp_path / "initrd"
    kernel.write_bytes(b"kernel one")
    initrd.write_bytes(b"initrd one")
    qemu = fake_qemu(tmp_path / "qemu-7.2", "7.2.22")
    return GuestSpec(kernel=kernel, initrd=initrd, qemu=qemu)


def test_the_key_ignores_what_is_not_guest_state(spec: GuestSpec) -> None:
    key = snapshot_key(spec, PREPARE)
    assert len(key) == 16
    for same in (
        {"name": "test_something_else"},
        {"gdbstub": "tcp"},
        {"boot_timeout": 3.0},
        {"paused": True},
    ):
        assert snapshot_key(dataclasses.replace(spec, **same), PREPARE) == key, same


@pytest.mark.parametrize(
    "change",
    [
        {"smp": 1},
        {"memory_mb": 1024},
        {"cpu": "max"},
        {"append": "rcupdate.rcu_cpu_stall_timeout=5"},
        {"extra_args": ("-rtc", "clock=vm")},
        {"command_port": False},
    ],
)
def test_the_key_changes_with_the_machine(spec: GuestSpec, change: dict) -> None:
    assert snapshot_key(dataclasses.replace(spec, **change), PREPARE) != snapshot_key(spec, PREPARE)


def test_the_key_changes_with_the_images_the_preparation_and_the_qemu(
    spec: GuestSpec, tmp_path: Path
) -> None:
    key = snapshot_key(spec, PREPARE)
    assert snapshot_key(spec, ()) != key
    spec.kernel.write_bytes(b"kernel two, rebuilt")
    assert snapshot_key(spec, PREPARE) != key
    key = snapshot_key(spec, PREPARE)
    assert spec.initrd is not None
    spec.initrd.write_bytes(b"initrd two, with another module")
    assert snapshot_key(spec, PREPARE) != key
    key = snapshot_key(spec, PREPARE)
    # Another QEMU version, and the same version rebuilt: never shared.
    other = fake_qemu(tmp_path / "qemu-8.0", "8.0.0")
    assert snapshot_key(dataclasses.replace(spec, qemu=other), PREPARE) != key
    rebuilt = fake_qemu(tmp_path / "qemu-7.2-rebuilt", "7.2.22", extra="# rebuilt\n")
    assert snapshot_key(dataclasses.replace(spec, qemu=rebuilt), PREPARE) != key


def test_kvm_snapshots_are_keyed_by_the_host_cpu_and_kernel(spec: GuestSpec) -> None:
    fields = keys.key_fields(dataclasses.replace(spec, accel="kvm"), PREPARE)
    assert set(fields["host"]) == {"kernel", "cpu"}
    assert "host" not in keys.key_fields(spec, PREPARE)


def test_a_missing_qemu_is_a_sentence(spec: GuestSpec) -> None:
    with pytest.raises(Exception, match="not on PATH"):
        snapshot_key(dataclasses.replace(spec, qemu="no-such-qemu-system"), PREPARE)


def make_entry(root: Path, state: bytes, key: str = "0123456789abcdef") -> Snapshot:
    path = root / f"snapshot-{key}"
    path.mkdir()
    (path / "state").write_bytes(state)
    meta = {
        "ready": {"release": "6.1.0", "cpus": 2, "commands": "ttyS1"},
        "state_size": len(state),
        "state_sha256": keys.file_digest(path / "state"),
    }
    (path / "snapshot.json").write_text(json.dumps(meta))
    (path / ".complete").write_text("now\n")
    return Snapshot(path)


def test_an_intact_entry_verifies(tmp_path: Path) -> None:
    snap = make_entry(tmp_path, b"QEVM" + bytes(1000))
    snap.verify()
    assert snap.ready().commands == "ttyS1"
    assert snap.key == "0123456789abcdef"


def test_a_damaged_state_is_refused_with_the_reason(tmp_path: Path) -> None:
    snap = make_entry(tmp_path, b"QEVM" + bytes(1000))
    snap.state.write_bytes(b"QEVM" + bytes(999) + b"\x01")  # same size, other bytes
    with pytest.raises(SnapshotError, match="does not match its sha256") as err:
        snap.verify()
    assert not err.value.by_qemu
    snap.state.write_bytes(b"QEVM")
    with pytest.raises(SnapshotError, match="has 4 bytes, not the 1004"):
        snap.verify()


def test_unreadable_metadata_is_refused_with_the_reason(tmp_path: Path) -> None:
    snap = make_entry(tmp_path, b"QEVM")
    (snap.path / "snapshot.json").write_text("{not json")
    with pytest.raises(SnapshotError, match=r"metadata .* is unreadable"):
        snap.verify()


def test_find_sees_only_complete_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUESTDBG_CACHE", str(tmp_path))
    snap = make_entry(tmp_path, b"QEVM")
    assert snapshot.find(snap.key) == Snapshot(snap.path, snapshot._made_ns(snap.path))
    (snap.path / ".complete").unlink()
    assert snapshot.find(snap.key) is None


def test_discard_leaves_an_entry_made_anew_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUESTDBG_CACHE", str(tmp_path))
    make_entry(tmp_path, b"QEVM")
    found = snapshot.find("0123456789abcdef")
    assert found is not None
    # Another process discarded it and made it again after we looked.
    stale = dataclasses.replace(found, made_ns=found.made_ns - 1)
    snapshot.discard(stale, "checksum")
    assert found.path.exists()
    snapshot.discard(found, "checksum")
    assert not found.path.exists()
    assert not list(tmp_path.glob("snapshot-*.discarded-*"))


def test_prune_keeps_the_most_recently_used_and_the_ones_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUESTDBG_CACHE", str(tmp_path))
    now = time.time()
    ages = {"a" * 16: 10, "b" * 16: 7200, "c" * 16: 3 * 86400, "d" * 16: 9 * 86400}
    for key, age in ages.items():
        snap = make_entry(tmp_path, b"QEVM", key)
        os.utime(snap.path / ".complete", (now - age, now - age))
    # "d" was made long ago but restored a minute ago: it counts as recent.
    (tmp_path / f"snapshot-{'d' * 16}" / "used").touch()
    (tmp_path / f"snapshot-{'c' * 16}.lock").touch()
    assert snapshot.prune(keep=2, grace=3600) == ["b" * 16, "c" * 16]
    assert sorted(p.name for p in tmp_path.glob("snapshot-*") if p.is_dir()) == [
        f"snapshot-{'a' * 16}",
        f"snapshot-{'d' * 16}",
    ]
    # Within the grace period nothing goes, whatever the count.
    assert snapshot.prune(keep=0, grace=3600) == []
    monkeypatch.setenv(snapshot.KEEP_ENV, "1")
    assert snapshot.prune(grace=0) == ["a" * 16]


def test_prune_skips_a_snapshot_being_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUESTDBG_CACHE", str(tmp_path))
    snap = make_entry(tmp_path, b"QEVM", "e" * 16)
    os.utime(snap.path / ".complete", (1000, 1000))  # made long ago
    with open(tmp_path / f"snapshot-{'e' * 16}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process is making it anew
        assert snapshot.prune(keep=0, grace=0) == []
    assert snapshot.prune(keep=0, grace=0) == ["e" * 16]
    assert not snap.path.exists()
