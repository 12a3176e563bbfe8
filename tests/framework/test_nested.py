"""The nested KVM host as a user meets it: a guest under KVM inside it, a
host tree without KVM, bounded waits with evidence, nothing left running.
Boots real hosts under the outer level (TCG here: about a minute each)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from guestdbg.errors import DeadlineError
from guestdbg.images import guest_image
from guestdbg.pytest_plugin.levels import outer
from guestdbg.runtime.nested import NestedHost, outer_level_problem

from tests.framework.conftest import guestdbg, qemu_pids

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    outer_level_problem() is not None, reason=f"kvm-nested cannot run here: {outer_level_problem()}"
)


def test_boot_runs_a_command_in_a_guest_under_the_nested_hosts_kvm(no_leftover_qemu: None) -> None:
    run = guestdbg(
        "boot", "--accel", "kvm-nested", "--host-kernel", "debian-6.1", "--smp", "1", "--",
        "grep -c ^processor /proc/cpuinfo", timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1"]
    assert "nested KVM host 6.1.0-" in run.stderr and "BLOCKIRQ" in run.stderr
    assert "under kvm-nested" in run.stderr


def test_a_host_tree_without_kvm_is_one_sentence(tmp_path: Path) -> None:
    tree = tmp_path / "linux"
    (tree / "arch" / "x86" / "boot").mkdir(parents=True)
    (tree / "arch" / "x86" / "boot" / "bzImage").write_bytes(b"x")
    (tree / "include" / "config").mkdir(parents=True)
    (tree / "include" / "config" / "kernel.release").write_text("6.1.0\n")
    (tree / ".config").write_text("# CONFIG_KVM is not set\n")
    run = guestdbg("boot", "--accel", "kvm-nested", "--host-kernel", str(tree), "--", "true")
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "has no KVM (CONFIG_KVM is not set)" in run.stderr


def test_a_host_that_never_boots_in_time_fails_with_its_console_tail(
    tmp_path: Path, no_leftover_qemu: None
) -> None:
    image = guest_image.guest_image()
    host = NestedHost("debian-6.1", [(image.kernel, image.initrd)], tmp_path, boot_timeout=2)
    with pytest.raises(DeadlineError) as err:
        host.__enter__()
    assert "within 2s" in err.value.message
    assert "console tail" in str(err.value)
    assert not host.running


def test_nothing_of_the_nested_guest_outlives_its_host(tmp_path: Path) -> None:
    from guestdbg.runtime.qemu import Guest
    from guestdbg.runtime.spec import spec_for

    image = guest_image.guest_image()
    before = qemu_pids()
    with NestedHost("debian-5.10", [(image.kernel, image.initrd)], tmp_path / "l1") as host:
        assert host.caps is not None and not host.caps.blockirq
        g = Guest(spec_for(image, accel="kvm", smp=1), tmp_path / "l2", host)
        with g:
            assert g.run("cat /proc/cmdline").ok
        assert not g.running  # QEMU inside the host is gone
        assert host.run("pidof qemu-system-x86_64 || echo none").strip() == "none"
    assert qemu_pids() == before


def test_a_guest_restored_in_the_nested_host_goes_on_from_its_snapshot(
    tmp_path: Path, no_leftover_qemu: None
) -> None:
    """kvm-nested snapshots: the first guest boots and is saved in L1's RAM;
    the next is restored from it, its console goes on from the booted one's,
    and the test module the preparation loaded is running."""
    from guestdbg.runtime.spec import spec_for
    from guestdbg.runtime.start import start_guest
    from guestdbg.scenarios.session import SNAPSHOT_PREPARATION

    image = guest_image.guest_image()
    spec = spec_for(image, accel="kvm", smp=1)
    with NestedHost("debian-6.1", [(image.kernel, image.initrd)], tmp_path / "l1") as host:
        first, how = start_guest(spec, host, SNAPSHOT_PREPARATION, tmp_path / "a")
        with first:
            assert how.startswith("boot (made snapshot ") and how.endswith("in the nested host)")
            key = how.split()[3]
        assert host.run(f"ls /tmp/guestdbg-snapshot-{key}").strip()
        second, how = start_guest(spec, host, SNAPSHOT_PREPARATION, tmp_path / "b")
        with second:
            assert how == f"snapshot {key} in the nested host"
            counter = "/sys/module/guestdbg_test/parameters/counter"
            before = int(second.run(f"cat {counter}").output)
            assert int(second.run(f"sleep 0.2; cat {counter}").output) > before
            log = (tmp_path / "b" / "console.log").read_text(errors="replace")
            assert log.count("GUESTDBG-READY") == 1  # one boot: the snapshot's
        # A stream the host lost is dropped with a line; the guest boots and makes it anew.
        host.run(f"rm /tmp/guestdbg-snapshot-{key}")
        third, how = start_guest(spec, host, SNAPSHOT_PREPARATION, tmp_path / "c")
        with third:
            assert how.startswith(f"boot (snapshot {key} is unusable")
            assert f"made snapshot {key} in the nested host" in how
            assert third.run("true").ok
        assert key in host.snapshots


@pytest.mark.parametrize("freeze", ["qmp-stop", "sigstop"])
def test_a_frozen_nested_host_is_rebooted_before_the_next_guest(
    tmp_path: Path, freeze: str, no_leftover_qemu: None
) -> None:
    """The live control of host recovery: L1 frozen under a running guest (the
    outer QEMU stopped by QMP, or by SIGSTOP) is found unhealthy at the next
    hand-out, within the health check's bounds, and rebooted; a guest on the
    new host runs."""
    import os
    import signal

    from guestdbg.runtime.nested import NestedHosts
    from guestdbg.runtime.spec import spec_for
    from guestdbg.runtime.start import start_guest

    image = guest_image.guest_image()
    spec = spec_for(image, accel="kvm", smp=1)
    guests = [(image.kernel, image.initrd)]
    hosts = NestedHosts(tmp_path / "hosts")
    try:
        first = hosts.healthy("debian-6.1", guests)
        # Its boot may itself have been retried (the outer QEMU's own SIGSEGV).
        before = len(hosts.reboots)
        guest, _ = start_guest(spec, first, (), tmp_path / "a", snapshot=False)
        with guest:
            assert guest.run("true").ok
            assert first.guest is not None and first.guest.proc is not None
            if freeze == "qmp-stop":
                first.guest.stop()
            else:
                os.kill(first.guest.proc.pid, signal.SIGSTOP)
        second = hosts.healthy("debian-6.1", guests)
        assert second is not first and not first.running
        assert len(hosts.reboots) > before
        why = hosts.reboots[before]  # the frozen host's, said before any boot retry
        if freeze == "qmp-stop":
            assert "QMP status paused" in why, why
        else:
            assert "is stopped (process state T" in why, why
        guest, _ = start_guest(spec, second, (), tmp_path / "b", snapshot=False)
        with guest:
            assert guest.run("true").ok
    finally:
        hosts.close()


def test_a_nested_host_whose_qemu_crashes_while_booting_is_booted_once_more(
    tmp_path: Path, no_leftover_qemu: None
) -> None:
    """The live control of the boot retry: the outer QEMU is killed with
    SIGSEGV while L1's kernel boots (as the outer QEMU's own use-after-free
    does about one boot in ten under TCG, docs/nested-hosts.md); the pool says
    why, keeps the failed boot's log, boots a second host and hands it out."""
    import signal
    import threading

    from guestdbg.runtime.nested import NestedHosts

    image = guest_image.guest_image()
    guests = [(image.kernel, image.initrd)]
    hosts = NestedHosts(tmp_path / "hosts")
    first_console = tmp_path / "hosts" / "host-1" / "console.log"
    crashed: list[int] = []

    def crash_the_first_boot() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not crashed:
            text = first_console.read_text(errors="replace") if first_console.exists() else ""
            pids = qemu_pids()  # this session's QEMUs: the booting host's only
            if "PCI host bridge" in text and len(pids) == 1:
                (pid,) = pids
                os.kill(pid, signal.SIGSEGV)
                crashed.append(pid)
            time.sleep(0.05)

    crasher = threading.Thread(target=crash_the_first_boot, daemon=True)
    crasher.start()
    try:
        host = hosts.healthy("debian-6.1", guests)
        crasher.join(5)
        assert crashed, "the first boot was never crashed (it booted before the control acted)"
        assert host.running and host.artifacts == tmp_path / "hosts" / "host-2"
        assert len(hosts.reboots) == 1
        why = hosts.reboots[0]
        assert why.startswith("nested host debian-6.1 did not boot, booting it once more"), why
        assert f"QEMU (pid {crashed[0]}) killed by signal 11" in why, why
        assert "PCI host bridge" in first_console.read_text(errors="replace")
        host.run("test -c /dev/kvm")
    finally:
        hosts.close()


def test_a_nested_guest_that_resets_by_itself_is_kept_paused_with_its_registers(
    tmp_path: Path, no_leftover_qemu: None
) -> None:
    """An L2 that resets (here on purpose: sysrq b) is not an unexplained exit:
    QEMU keeps it paused, the guest's problem says so and its registers are saved."""
    from guestdbg.runtime.nested import NestedHost
    from guestdbg.runtime.spec import spec_for
    from guestdbg.runtime.start import start_guest

    image = guest_image.guest_image()
    spec = spec_for(image, accel="kvm", smp=1)
    with NestedHost("debian-6.1", [(image.kernel, image.initrd)], tmp_path / "l1") as host:
        guest, _ = start_guest(spec, host, (), tmp_path / "l2", snapshot=False)
        with guest:
            guest.console.send("echo b > /proc/sysrq-trigger\n")
            deadline = time.monotonic() + 60
            why = None
            while why is None and time.monotonic() < deadline:
                time.sleep(1)
                why = guest.problem(ping=True)
            assert why is not None and "QMP status shutdown" in why, why
            assert (tmp_path / "l2" / "registers-at-shutdown.txt").read_text().count("RIP=") >= 1


SHOW_FLAKY = """
def pytest_collection_finish(session):
    for item in session.items:
        print("RERUN" if item.get_closest_marker("flaky") else "ONCE", item.nodeid)
"""


def test_under_an_outer_tcg_only_nested_cases_are_rerun_once(tmp_path: Path) -> None:
    """A nested guest that dies under the outer TCG is rerun by the suite
    itself (so ``guestdbg nightly --accel kvm-nested`` is as steady as
    scripts/suite); local TCG cases are not, nor anything when the user
    chose ``--reruns``."""
    if outer().faithful:
        pytest.skip("the outer level here is faithful: nothing is rerun")
    (tmp_path / "show_flaky.py").write_text(SHOW_FLAKY)
    argv = [sys.executable, "-m", "pytest", "-p", "show_flaky", "-p", "no:cacheprovider"]
    argv += ["tests/guest", "--collect-only", "-q", "-k", "boots_clean"]
    argv += ["--guestdbg-accel", "tcg,kvm-nested", "--guestdbg-host-kernel", "debian-6.1"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    runs = [
        subprocess.run(argv + extra, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        for extra in ([], ["--reruns", "0"])
    ]
    shown = [
        sorted(ln for ln in r.stdout.splitlines() if ln.split(" ")[0] in ("RERUN", "ONCE"))
        for r in runs
    ]
    case = "tests/guest/test_health.py::test_the_guest_boots_clean"
    assert shown[0] == [f"ONCE {case}[tcg-smp2]", f"RERUN {case}[kvm-nested-debian-6.1-smp2]"], (
        runs[0].stdout
    )
    assert shown[1] == [f"ONCE {case}[kvm-nested-debian-6.1-smp2]", f"ONCE {case}[tcg-smp2]"], runs[
        1
    ].stdout
