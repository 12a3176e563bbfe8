"""The host probe, against this machine's real /dev/kvm and /sys."""

import os
from pathlib import Path

import pytest
from guestdbg.runtime import host


def test_probe_finds_qemu_and_gdb_with_python() -> None:
    info = host.probe()
    assert info.qemu.path and info.qemu.version, info.qemu.problem
    assert info.qemu.version[0].isdigit()
    assert info.gdb.path and info.gdb.version and info.gdb.version[0].isdigit()
    assert info.gdb.python, "gdb without Python cannot run lx-symbols"


def test_tcg_is_always_usable_when_qemu_is_installed() -> None:
    info = host.probe()
    assert "tcg" in info.usable_accels()
    assert info.accel_problem("tcg") is None
    assert "unknown accelerator" in (info.accel_problem("hax") or "")


def test_kvm_verdict_matches_the_loaded_modules() -> None:
    kvm = host.probe_kvm()
    mods = set(os.listdir("/sys/module")) if os.path.isdir("/sys/module") else set()
    if not os.path.exists("/dev/kvm"):
        assert not kvm.present and not kvm.usable
        assert "does not exist" in kvm.reason
    elif mods & {"kvm_intel", "kvm_amd"}:
        assert kvm.usable, kvm.reason
        assert "hardware KVM" in kvm.reason
    elif "kvm_pvm" in mods:
        assert kvm.present and not kvm.usable
        assert "para-virtual" in kvm.reason and "kvm_pvm" in kvm.reason
        assert host.probe().accel_problem("kvm") == f"KVM is not usable on this host: {kvm.reason}"
    else:
        assert not kvm.usable


def test_guest_debug2_bits_are_read_from_the_real_device() -> None:
    kvm = host.probe_kvm()
    if not kvm.present or kvm.guest_debug2 is None:
        pytest.skip(f"no KVM_CAP_SET_GUEST_DEBUG2 to read here: {kvm.reason}")
    assert kvm.api_version == 12
    # Any KVM that answers supports enabling guest debug and single-step.
    assert {"ENABLE", "SINGLESTEP"} <= set(kvm.guest_debug_flags)
    assert kvm.blockirq == bool(kvm.guest_debug2 & 0x00100000)
    if kvm.blockirq:
        assert "BLOCKIRQ" in kvm.guest_debug_flags


def test_missing_dev_kvm(tmp_path: Path) -> None:
    kvm = host.probe_kvm(dev=str(tmp_path / "kvm"), sys_module=tmp_path)
    assert (kvm.present, kvm.usable) == (False, False)
    assert "does not exist" in kvm.reason


def test_not_a_kvm_device_is_not_usable(tmp_path: Path) -> None:
    fake = tmp_path / "kvm"
    fake.write_text("")
    (tmp_path / "mods" / "kvm_intel").mkdir(parents=True)
    kvm = host.probe_kvm(dev=str(fake), sys_module=tmp_path / "mods")
    assert kvm.present and not kvm.usable
    assert "API version" in kvm.reason


def test_missing_qemu_and_gdb_are_sentences() -> None:
    q = host.probe_qemu("qemu-system-nonexistent")
    assert q.path is None and "QEMU is not installed" in (q.problem or "")
    g = host.probe_gdb("gdb-nonexistent")
    assert g.path is None and "gdb is not installed" in (g.problem or "")


def test_describe_names_the_kvm_reason() -> None:
    text = host.describe(host.probe())
    assert host.probe().kvm.reason in text
    assert "accelerators usable here:" in text


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cpuinfo"


def test_a_tcg_cpu_is_a_virtual_machine_whose_cpu_is_emulated() -> None:
    # Captured: guestdbg boot --cpu max --smp 1 -- cat /proc/cpuinfo (QEMU 7.2, TCG).
    kind = host.parse_machine_kind((FIXTURES / "qemu-7.2-tcg-cpu-max.txt").read_text())
    assert kind.virtual and kind.emulated
    assert "QEMU TCG CPU" in kind.describe() and "emulated by TCG" in kind.describe()


def test_a_hardware_assisted_vm_is_virtual_but_not_emulated() -> None:
    # Captured: the first CPU of /proc/cpuinfo on this project's CI machine (a cloud VM).
    kind = host.parse_machine_kind((FIXTURES / "amd-epyc-vm.txt").read_text())
    assert kind.virtual and not kind.emulated
    assert "hardware-assisted" in kind.describe()
