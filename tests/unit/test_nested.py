"""The nested KVM host's pure parts: the injection judge over host traces
recorded in real nested runs (Debian 11's 5.10 host, where QEMU steps with
flags 0x1, and Debian 12's 6.1 host with flags 0x3), the kvm-nested command
line, the host-kernel checks and the private apt sources."""

import socket
from pathlib import Path

import pytest
from guestdbg.errors import BuildError
from guestdbg.images import apt, host_kernels, outer_qemu
from guestdbg.judges.injections import (
    GUEST_TIMER,
    INJECTED,
    interrupts_while_stepping,
    parse_kvm_trace,
)
from guestdbg.runtime.nested import (
    TCG_LIMITS,
    RemoteProcess,
    host_kernel_trouble,
    parse_kvmcaps,
)
from guestdbg.runtime.spec import GuestSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nested"
TRACE_510 = FIXTURES / "host-trace-debian-5.10-sstep0x1.txt"
TRACE_61 = FIXTURES / "host-trace-debian-6.1-default.txt"
TRACE_61_SMP2 = FIXTURES / "host-trace-debian-6.1-smp2-default.txt"
# Recorded: the 6.1 nested host's console in a CI run where one of its CPUs
# stopped answering IPIs while the other ran a nested guest (outer TCG).
CONSOLE_61_LOCKUP = FIXTURES / "host-console-debian-6.1-soft-lockup.txt"


def test_the_510_host_injects_the_timer_interrupt_inside_steps() -> None:
    trace = parse_kvm_trace(TRACE_510.read_text())
    assert trace.vectors == {0xEC: 111}  # LOCAL_TIMER_VECTOR, 5.10's "irq 236" format
    assert trace.exit_reasons()["DB excp"] == 200  # one #DB exit per step: KVM single-steps
    findings = interrupts_while_stepping(200, 100, 1012, True, trace)
    assert {f.kind for f in findings} == {INJECTED, GUEST_TIMER}
    assert "111 interrupt(s)" in findings[0].title


def test_the_61_host_injects_nothing_while_stepping() -> None:
    trace = parse_kvm_trace(TRACE_61.read_text())
    assert trace.injections == []
    assert trace.exit_reasons()["DB excp"] == 200
    assert interrupts_while_stepping(200, 5, 5, True, trace) == []


def test_injections_into_the_vcpus_not_stepped_are_not_counted() -> None:
    """smp2 on the 6.1 host: QEMU runs the other vCPU during each step and it
    takes its timer interrupts (296 of them here); the stepped one takes none."""
    trace = parse_kvm_trace(TRACE_61_SMP2.read_text())
    assert len(trace.stepped_threads) == 1
    assert len(trace.injections) == 296 and trace.injected() == []
    assert trace.exit_reasons()["DB excp"] == 200
    assert "hlt" not in trace.exit_reasons()  # the idle vCPU's exits are not the stepped one's
    assert interrupts_while_stepping(200, 7, 7, True, trace) == []


def test_jiffies_are_not_judged_when_the_steps_ran_with_interrupts_off() -> None:
    assert interrupts_while_stepping(200, 5, 9, False, None) == []
    assert [f.kind for f in interrupts_while_stepping(200, 5, 9, True, None)] == [GUEST_TIMER]


def test_61_style_injection_lines_parse_too() -> None:
    text = (
        " qemu-system-x86-41 [001] d..1. 5.0: kvm_exit: vcpu 0 reason DB excp"
        " rip 0xffffffff81000000 info1 0x0\n"
        " qemu-system-x86-41 [001] d..1. 5.1: kvm_inj_virq: IRQ 0xec [reinjected]\n"
        " qemu-system-x86-42 [000] d..1. 5.1: kvm_inj_virq: IRQ 0xec\n"
    )
    assert parse_kvm_trace(text).vectors == {0xEC: 1}  # thread 42 was not stepped


def test_kvmcaps_line() -> None:
    caps = parse_kvmcaps("KVMCAPS api=12 guest_debug2=0x1f0003 nested_state=4224\n")
    assert caps is not None and caps.blockirq and "BLOCKIRQ" in caps.flags
    old = parse_kvmcaps("KVMCAPS api=12 guest_debug2=0 nested_state=4224")
    assert old is not None and not old.blockirq and "Linux < 5.15" in old.describe()


def test_kvm_nested_guest_is_told_kvm_and_host_cpu(tmp_path: Path) -> None:
    k = tmp_path / "bzImage"
    k.write_bytes(b"x")
    spec = GuestSpec(kernel=k, accel="kvm")
    spec.validate()
    argv = spec.argv(
        Path(),
        Path(),
        Path(),
        "socket,id=gdb0,host=0.0.0.0,port=1234,server=on,wait=off",
        qmp_chardev="socket,id=qmp0,host=10.0.2.2,port=5",
        console_chardev="socket,id=con0,host=10.0.2.2,port=6",
    )
    assert argv[argv.index("-accel") + 1] == "kvm"
    assert argv[argv.index("-cpu") + 1] == "host"
    assert "socket,id=con0,host=10.0.2.2,port=6" in argv
    assert not any("logfile=" in a for a in argv)  # the port reader here keeps the log


def test_a_host_tree_without_kvm_gets_one_sentence(tmp_path: Path) -> None:
    tree = tmp_path / "linux"
    (tree / "arch" / "x86" / "boot").mkdir(parents=True)
    (tree / "arch" / "x86" / "boot" / "bzImage").write_bytes(b"x")
    (tree / "include" / "config").mkdir(parents=True)
    (tree / "include" / "config" / "kernel.release").write_text("6.1.0\n")
    (tree / ".config").write_text("CONFIG_VIRTIO_NET=y\n# CONFIG_KVM is not set\n")
    with pytest.raises(Exception, match=r"has no KVM \(CONFIG_KVM is not set\)") as err:
        host_kernels.tree_host(tree)
    assert "\n" not in str(err.value)


def test_kvm_without_a_backend_is_named() -> None:
    problems = host_kernels.kvm_problems(
        {
            "CONFIG_KVM": "m",
            "CONFIG_VIRTIO_PCI": "y",
            "CONFIG_VIRTIO_NET": "m",
            "CONFIG_SERIAL_8250_CONSOLE": "y",
            "CONFIG_BLK_DEV_INITRD": "y",
            "CONFIG_DEVTMPFS": "y",
        }
    )
    assert problems == ["neither CONFIG_KVM_AMD nor CONFIG_KVM_INTEL is set (KVM has no backend)"]


def test_private_apt_sources_use_the_systems_mirror(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n"
    )
    mirrors = apt.system_mirrors((sources,))
    assert mirrors == apt.Mirrors(
        "http://mirror.example/debian", "http://mirror.example/debian-security"
    )
    text = apt.sources_list("bullseye", mirrors)
    assert "http://mirror.example/debian-security bullseye-security main" in text
    assert "bookworm" not in text


def test_private_apt_sources_name_source_suites_only_when_asked() -> None:
    mirrors = apt.Mirrors("http://mirror.example/debian", "http://mirror.example/debian-security")
    plain = apt.sources_list("bookworm", mirrors)
    assert "deb-src" not in plain
    text = apt.sources_list("bookworm", mirrors, ("bookworm-backports",))
    assert text.count("deb-src") == 1
    assert "deb-src [signed-by=" in text and " bookworm-backports main" in text
    with pytest.raises(BuildError, match="no suite 'trixie'"):
        apt.sources_list("bookworm", mirrors, ("trixie",))


def test_outer_qemu_fixes_are_patches_that_lift_known_limits() -> None:
    """Each fix the outer QEMU is built with names an outer-level limit, and
    its build key is the patch's code, not its commit message."""
    names = [p.name for p in outer_qemu.patches()]
    assert names and sorted(outer_qemu.FIXES) == names
    assert set(outer_qemu.FIXES.values()) <= set(TCG_LIMITS)
    for patch in outer_qemu.patches():
        code = outer_qemu.patch_code(patch)
        assert code.startswith("diff --git ") and "Subject:" not in code


def test_remote_exit_status_reads_like_popen(tmp_path: Path) -> None:
    """What the reporting shell in the host sends, read as Popen would say it."""

    class Host:
        guest = None

    def read(report: bytes) -> RemoteProcess:
        p = RemoteProcess(Host(), ["qemu"], tmp_path / "stderr.log")  # type: ignore[arg-type]
        ours, theirs = socket.socketpair()
        theirs.sendall(report)
        theirs.close()
        p._read(ours)
        return p

    killed = read(b"pid 135\nerr qemu: terminating on signal 9\nstatus 137\n")
    assert (killed.remote_pid, killed.poll(), killed.wait(0)) == (135, -9, -9)
    assert "terminating on signal 9" in (tmp_path / "stderr.log").read_text()
    assert read(b"pid 7\nstatus 1\n").returncode == 1
    assert read(b"pid 7\n").returncode == -9  # the host went away: so did the process


def test_a_nested_host_whose_cpu_is_stuck_is_unusable() -> None:
    """problems() reports it, so the next test boots a new nested host instead
    of failing on this one (the CI run this console comes from failed every
    later case of the 6.1 host)."""
    text = CONSOLE_61_LOCKUP.read_text()
    trouble = host_kernel_trouble(text)
    assert trouble is not None
    assert "soft lockup" in trouble and "console line 356" in trouble
    # the same boot before the lockup, with KVM's unhandled-WRMSR notice: healthy
    before = "".join(text.splitlines(keepends=True)[:355])
    assert "Unhandled WRMSR" in before
    assert host_kernel_trouble(before) is None


def test_a_vm_whose_kernel_died_is_named_by_its_report(tmp_path: Path) -> None:
    """vm-run's sentence when the VM ends without the command's status: the
    report its kernel printed, not the console's last line. The console is a
    real one: vm-run's VM (Debian's 6.1 with KVM under the outer TCG) died
    while the suite inside stepped a KVM guest with NMIs (2026-12-07)."""
    from guestdbg.runtime.kvm_vm import _vm_trouble

    console = FIXTURES.parent / "kvm_vm" / "console-l1-panic.log"
    (tmp_path / "console.log").write_bytes(console.read_bytes())
    assert _vm_trouble(tmp_path) == (
        "its kernel reported 'BUG: stack guard page was hit in error_entry' "
        "(console line 43, 205.596 s after boot)"
    )
