"""Boot the default guest under TCG and talk to it: console, QMP, gdbstub."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from guestdbg.errors import DeadlineError, GuestError, HostError, InputError
from guestdbg.images.guest_image import GuestImage
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.spec import GuestSpec
from guestdbg.scenarios.session import module_symbol_address

from .conftest import qemu_pids

pytestmark = pytest.mark.guest


@pytest.mark.parametrize("smp", [1, 2], ids=["smp1", "smp2"])
def test_boot_and_run_commands(
    spec: GuestSpec, smp: int, tmp_path: Path, no_leftover_qemu: None
) -> None:
    with Guest(dataclasses.replace(spec, smp=smp), artifacts=tmp_path) as guest:
        assert guest.ready is not None
        assert guest.ready.cpus == smp
        assert guest.ready.release.endswith("-guestdbg")
        cmdline = guest.run("cat /proc/cmdline")
        assert cmdline.ok
        for word in ("console=ttyS0", "nokaslr", "panic=-1", "loglevel=7"):
            assert word in cmdline.output.split()
        assert "quiet" not in cmdline.output.split()
        assert guest.run("grep -c ^processor /proc/cpuinfo").output.strip() == str(smp)
        failed = guest.run("ls /does-not-exist")
        assert failed.status == 1 and "No such file or directory" in failed.output
        assert guest.run("exit 7").status == 7
        # The shell survives `exit`, and multi-line commands with quotes work.
        out = guest.run("for i in 1 2; do\n  echo \"n=$i 'q'\"\ndone")
        assert out.output.split("\n")[:2] == ["n=1 'q'", "n=2 'q'"]
    assert not guest.running
    log = (tmp_path / "console.log").read_text(errors="replace")
    assert "GUESTDBG-READY" in log and "Linux version" in log


def test_test_module_loads_and_counts(
    spec: GuestSpec, image: GuestImage, no_leftover_qemu: None
) -> None:
    with Guest(spec) as guest:
        assert guest.run("insmod /lib/modules/guestdbg_test.ko").ok
        first = int(guest.run("cat /sys/module/guestdbg_test/parameters/counter").output)
        guest.run("sleep 0.2")
        second = int(guest.run("cat /sys/module/guestdbg_test/parameters/counter").output)
        assert second > first, "the hot kthread's counter did not advance"
        # Module symbols from sysfs + the .ko are the addresses /proc/kallsyms gives.
        for name in ("guestdbg_tick", "guestdbg_work", "guestdbg_set_tf"):
            listed = guest.run(f"grep -w {name} /proc/kallsyms").output.split()[0]
            assert module_symbol_address(guest, image, name) == int(listed, 16)
        assert "guestdbg_hot" in guest.run("ps").output
        assert guest.run("rmmod guestdbg_test").ok
    guest.discard_artifacts()


def test_qmp_stop_cont_registers_and_nmi(spec: GuestSpec, no_leftover_qemu: None) -> None:
    with Guest(spec) as guest:
        assert guest.status() == "running"
        guest.stop()
        assert guest.status() == "paused"
        regs = guest.registers()
        assert "RIP=" in regs and "CPU#1" in regs
        guest.cont()
        assert guest.status() == "running"
        guest.inject_nmi()
        # An NMI nobody claims is reported by the guest, which proves it arrived.
        guest.console.expect(rb"NMI received for unknown reason", 20, "the guest's NMI report")
        assert guest.run("true").ok


@pytest.mark.parametrize("kind", ["unix", "tcp"])
def test_paused_start_exposes_the_gdbstub(
    spec: GuestSpec, kind: str, no_leftover_qemu: None
) -> None:
    with Guest(dataclasses.replace(spec, paused=True, gdbstub=kind)) as guest:
        assert guest.status() == "prelaunch"
        if kind == "unix":
            s = socket.socket(socket.AF_UNIX)
            s.connect(guest.gdbstub.address)
        else:
            host, port = guest.gdbstub.address.rsplit(":", 1)
            s = socket.create_connection((host, int(port)), timeout=5)
        # A gdb remote-protocol exchange: ask why the target stopped.
        s.sendall(b"+$?#3f")
        s.settimeout(10)
        reply = b""
        while not re.search(rb"\$[^#]*#[0-9a-f]{2}", reply):  # one whole packet, bounded
            chunk = s.recv(64)
            assert chunk, f"the gdbstub closed the connection after {reply!r}"
            reply += chunk
        s.close()
        assert re.search(rb"\$[TS][0-9a-f]{2}", reply), reply
        guest.cont()
        guest.wait_ready()
        assert guest.run("true").ok


def test_a_guest_that_never_boots_fails_with_the_console_tail(
    spec: GuestSpec, tmp_path: Path, no_leftover_qemu: None
) -> None:
    # init=/nonexistent: the kernel boots, finds no init and panics; the
    # readiness marker never comes.
    bad = dataclasses.replace(spec, append="rdinit=/nonexistent", boot_timeout=60)
    with pytest.raises(GuestError) as err, Guest(bad, artifacts=tmp_path):
        pass
    text = str(err.value)
    assert str(tmp_path / "console.log") in text
    assert "Kernel panic" in text or "No working init found" in text


def test_boot_deadline_is_enforced(spec: GuestSpec, tmp_path: Path, no_leftover_qemu: None) -> None:
    with (
        pytest.raises(DeadlineError) as err,
        Guest(dataclasses.replace(spec, boot_timeout=0.3), artifacts=tmp_path),
    ):
        pass
    assert "no readiness marker (GUESTDBG-READY) from the guest within 0.3s" in str(err.value)


def test_no_qemu_survives_an_exception(spec: GuestSpec, no_leftover_qemu: None) -> None:
    with pytest.raises(RuntimeError), Guest(spec) as guest:
        pid = guest.proc.pid if guest.proc else None
        raise RuntimeError("test body failed")
    assert pid not in qemu_pids()


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from guestdbg.runtime.qemu import Guest
    from guestdbg.runtime.spec import GuestSpec
    spec = GuestSpec(kernel=Path(sys.argv[1]), initrd=Path(sys.argv[2]))
    with Guest(spec) as g:
        print(g.proc.pid, flush=True)
        time.sleep(120)
""")


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "sigkill"]
)
def test_no_qemu_survives_its_python_being_interrupted_or_killed(
    spec: GuestSpec, sig: signal.Signals, no_leftover_qemu: None
) -> None:
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(spec.kernel), str(spec.initrd)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip().isdigit(), f"child did not boot a guest: {line!r}"
    qemu = int(line)
    assert qemu in qemu_pids()
    # SIGINT unwinds through Guest.__exit__; SIGTERM and SIGKILL end Python
    # without unwinding, and PR_SET_PDEATHSIG has to take QEMU down.
    child.send_signal(sig)
    child.wait(timeout=30)
    deadline = time.monotonic() + 10
    while qemu in qemu_pids() and time.monotonic() < deadline:
        time.sleep(0.05)  # the kernel delivers PDEATHSIG asynchronously
    assert qemu not in qemu_pids(), f"QEMU {qemu} outlived its Python process ({sig.name})"


def test_bad_input_is_a_sentence(spec: GuestSpec, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^the kernel /nonexistent does not exist$"):
        Guest(dataclasses.replace(spec, kernel=Path("/nonexistent"))).start()
    with pytest.raises(InputError, match="unknown accelerator 'xen'"):
        Guest(dataclasses.replace(spec, accel="xen")).start()
    with pytest.raises(HostError, match="QEMU is not installed: qemu-system-nonexistent"):
        Guest(dataclasses.replace(spec, qemu="qemu-system-nonexistent")).start()


def test_unusable_kvm_is_refused_with_the_reason(spec: GuestSpec) -> None:
    from guestdbg.runtime import host

    kvm = host.probe().kvm
    if kvm.usable:
        pytest.skip("this host has usable KVM")
    with pytest.raises(HostError) as err:
        Guest(dataclasses.replace(spec, accel="kvm")).start()
    assert str(err.value) == f"accel=kvm was requested but KVM is not usable: {kvm.reason}"


def test_qemu_that_fails_to_start_says_why(
    spec: GuestSpec, tmp_path: Path, no_leftover_qemu: None
) -> None:
    with pytest.raises(GuestError) as err:
        Guest(
            dataclasses.replace(spec, extra_args=("-no-such-option",)), artifacts=tmp_path
        ).start()
    assert "QEMU failed to start" in str(err.value)
    assert "-no-such-option" in str(err.value)


@pytest.mark.parametrize("command_port", [True, False], ids=["command-port", "shared-console"])
def test_commands_are_exact_while_the_kernel_floods_the_console(
    spec: GuestSpec, tmp_path: Path, command_port: bool, no_leftover_qemu: None
) -> None:
    """Kernel messages as fast as the console takes them, while 40 commands
    run: every status is found and every output is exactly what was printed,
    on the command port (ttyS1) and on a console the shell shares."""
    spec = dataclasses.replace(spec, command_port=command_port)
    with Guest(spec, artifacts=tmp_path) as guest:
        assert (guest.ready is not None) and (
            guest.ready.commands == ("ttyS1" if command_port else None)
        )
        assert guest.run("insmod /lib/modules/guestdbg_test.ko hot=0").ok
        assert guest.run("echo flood:8 > /sys/module/guestdbg_test/parameters/trigger").ok
        for i in range(40):
            result = guest.run(f"echo line-{i}-a; echo line-{i}-b; exit {i % 3}")
            assert result.status == i % 3, result.raw
            assert result.output == f"line-{i}-a\nline-{i}-b\n", result.raw
        guest.console.expect(rb"flood done after \d+ messages", 30, "the end of the flood")
    flood = guest.console_log.read_text(errors="replace").count("guestdbg_test: flood ")
    assert flood > 100, f"only {flood} kernel messages: the flood did not flood"
