"""Guests restored from a snapshot of a booted guest: the same guest as a
boot gives, its console one session, gdb attached as before, the positive
controls still firing; a damaged or unloadable snapshot is a boot and one
log line."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from xml.etree import ElementTree

import pytest
from guestdbg.debugger.gdb import Debugger
from guestdbg.images.guest_image import GuestImage
from guestdbg.runtime import snapshot_key as keys
from guestdbg.runtime import snapshot_store as snapshot
from guestdbg.runtime import start as start_module
from guestdbg.runtime.local import LOCAL
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.spec import GuestSpec
from guestdbg.runtime.start import RestoredGuest, start_guest
from guestdbg.scenarios.session import COUNTER, SNAPSHOT_PREPARATION

pytestmark = pytest.mark.guest
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Snapshots in a cache of this test's own (the images stay where they are)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("GUESTDBG_CACHE", str(cache))
    monkeypatch.setattr(start_module, "_unrestorable", set())
    yield cache


def start(spec: GuestSpec, artifacts: Path) -> tuple[Guest, str]:
    guest, how = start_guest(spec, LOCAL, SNAPSHOT_PREPARATION, artifacts)
    return guest, how


def counter(guest: Guest) -> int:
    return int(guest.run(f"cat {COUNTER}").output)


def test_a_restored_guest_continues_the_booted_session(
    spec: GuestSpec, image: GuestImage, own_cache: Path, tmp_path: Path, no_leftover_qemu: None
) -> None:
    first, how = start(spec, tmp_path / "first")
    with closing(first):
        assert how.startswith("boot (made snapshot "), how
        assert counter(first) > 0
    key = how.removeprefix("boot (made snapshot ").rstrip(")")
    assert snapshot.find(key) is not None

    guest, how = start(spec, tmp_path / "restored")
    with closing(guest):
        assert how == f"snapshot {key}" and isinstance(guest, RestoredGuest)
        assert guest.ready is not None and guest.ready.commands == "ttyS1"
        assert guest.proc_version() == guest.run("cat /proc/version").output.strip()
        image.tree.check_running(guest.proc_version())
        before = counter(guest)
        guest.run("sleep 0.2")
        assert counter(guest) > before, "the restored module's kthread does not run"
        guest.run("echo guestdbg-after-restore > /dev/kmsg")
        guest.console.expect(rb"guestdbg-after-restore", 20, "the restored guest's printk")
        # gdb attaches as to a booted guest, and a breakpoint in the module hits.
        tick = int(guest.run("grep -w guestdbg_tick /proc/kallsyms").output.split()[0], 16)
        with Debugger(artifacts=tmp_path / "gdb") as dbg:
            dbg.load(image.tree.vmlinux)
            dbg.attach(guest)
            dbg.verify_kernel()
            bp = dbg.break_insert(f"*{tick:#x}")
            stop = dbg.cont()
            assert stop.pc == tick, stop
            dbg.break_delete(bp)
    # One session: the boot up to the snapshot, then what the restored guest printed.
    log = (tmp_path / "restored" / "console.log").read_text(errors="replace")
    assert log.count("GUESTDBG-READY") == 1 and log.count("guestdbg_test: loaded") == 1
    assert log.index("Linux version") < log.index("guestdbg_test: loaded")
    assert log.index("guestdbg_test: loaded") < log.index("guestdbg-after-restore")
    snap = snapshot.find(key)
    assert snap is not None
    before = snap.console_log.read_text(errors="replace")
    assert log.startswith(before)

    def stamps(text: str) -> list[float]:
        return [float(m) for m in re.findall(r"^\[\s*(\d+\.\d+)\]", text, re.M)]

    # The guest's clock goes on from where the snapshot stopped it.
    assert min(stamps(log[len(before) :])) >= max(stamps(before))
    commands = (tmp_path / "restored" / "commands.log").read_bytes()
    assert commands.startswith(snap.command_log.read_bytes())
    assert len(commands) > snap.command_log.stat().st_size
    assert "-incoming defer" in (tmp_path / "restored" / "qemu-stderr.log").read_text()


def test_a_corrupt_snapshot_is_a_boot_with_one_line_and_is_made_anew(
    spec: GuestSpec, own_cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    no_leftover_qemu: None,
) -> None:  # fmt: skip
    made, how = start(spec, tmp_path / "made")
    made.close()
    key = how.removeprefix("boot (made snapshot ").rstrip(")")
    found = snapshot.find(key)
    assert found is not None
    data = bytearray(found.state.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of guest RAM
    found.state.write_bytes(bytes(data))
    keys._digest_of.cache_clear()

    with caplog.at_level(logging.WARNING, logger="guestdbg.snapshot"):
        guest, how = start(spec, tmp_path / "fallback")
    with closing(guest):
        assert not isinstance(guest, RestoredGuest)
        assert how.startswith(f"boot (snapshot {key} is unusable"), how
        assert "made snapshot" in how  # a damaged file is made anew by this boot
        assert counter(guest) > 0  # prepared like a restored guest
    lines = [r.getMessage() for r in caplog.records if r.name == "guestdbg.snapshot"]
    assert len(lines) == 1, lines
    assert "does not match its sha256" in lines[0]
    again = snapshot.find(key)
    assert again is not None and again.made_ns != found.made_ns
    again.verify()


def test_a_snapshot_qemu_cannot_load_is_a_boot_with_qemus_reason(
    spec: GuestSpec, own_cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    no_leftover_qemu: None,
) -> None:  # fmt: skip
    made, how = start(spec, tmp_path / "made")
    made.close()
    key = how.removeprefix("boot (made snapshot ").rstrip(")")
    found = snapshot.find(key)
    assert found is not None
    # An intact file (its checksum matches) that is not a stream QEMU accepts.
    found.state.write_bytes(b"NOT A QEMU MIGRATION STREAM" + bytes(4096))
    fields = json.loads((found.path / "snapshot.json").read_text())
    keys._digest_of.cache_clear()
    fields["state_size"] = found.state.stat().st_size
    fields["state_sha256"] = keys.file_digest(found.state)
    (found.path / "snapshot.json").write_text(json.dumps(fields))

    with caplog.at_level(logging.WARNING, logger="guestdbg.snapshot"):
        guest, how = start(spec, tmp_path / "fallback")
    with closing(guest):
        assert not isinstance(guest, RestoredGuest) and guest.ready is not None
        assert how.startswith(f"boot (snapshot {key} is unusable"), how
    lines = [r.getMessage() for r in caplog.records if r.name == "guestdbg.snapshot"]
    assert len(lines) == 1 and "QEMU did not load it" in lines[0], lines
    assert snapshot.find(key) is None  # removed
    stderr = (tmp_path / "fallback" / "snapshot-restore-stderr.log").read_text()
    assert "-incoming defer" in stderr
    # This process does not try that key again: the next guest just boots.
    guest, how = start(spec, tmp_path / "next")
    guest.close()
    assert how.startswith("boot (") and "could not be restored earlier" in how


def test_every_positive_control_fires_from_a_restored_guest(
    spec: GuestSpec, tmp_path: Path, no_leftover_qemu: None
) -> None:
    """The suite's controls, run as the suite runs them, with the snapshot of
    their guest made first: each starts from it and still finds its defect."""
    guest, _ = start(spec, tmp_path / "warm")  # the suite's guests share this key
    guest.close()
    junit = tmp_path / "junit.xml"
    run = subprocess.run(
        [sys.executable, "-m", "guestdbg", "run", "--accel", "tcg", "-m", "control", "-q",
         "-p", "no:cacheprovider", f"--artifacts={tmp_path / 'artifacts'}",
         f"--junitxml={junit}"],
        capture_output=True, text=True, cwd=REPO, timeout=600, check=False,
        env={**os.environ},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    ran = [
        case
        for case in ElementTree.parse(junit).iter("testcase")
        if case.get("name", "").startswith("test_control") and case.find("skipped") is None
    ]
    # The TCG controls (the kvm-nested injection control skips here): stuck
    # breakpoint (sw, hw), step into the NMI handler, ledger, module map, and
    # the two TF-leak controls.
    assert len(ran) == 7, [c.get("name") for c in ran]
    starts = [
        prop.get("value", "")
        for case in ran
        for prop in case.iter("property")
        if prop.get("name") == "guest_start"
    ]
    assert len(starts) == 7 and all(s.startswith("snapshot ") for s in starts), starts
    assert "7 passed" in run.stdout
