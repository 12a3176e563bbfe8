"""Which level runs the KVM under test, and the verdict of a stall a guest
reports there: the CPU descriptions are real captured /proc/cpuinfo texts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from guestdbg.pytest_plugin import levels, reporting
from guestdbg.pytest_plugin.options import MatrixPoint
from guestdbg.runtime import host

CPUINFO = Path(__file__).resolve().parents[1] / "fixtures" / "cpuinfo"
# What vm-run passes its command (runtime/kvm_vm.py), as a CI run's VM saw it.
VM_OUTER = "TCG (QEMU 10.0.2 with fixes for sw-breakpoints, -cpu max)"


def _request(point: MatrixPoint) -> SimpleNamespace:
    return SimpleNamespace(node=SimpleNamespace(callspec=SimpleNamespace(params={"point": point})))


@pytest.fixture
def in_vm_run_vm(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as inside vm-run's VM: its CPU emulated by the outer TCG
    (captured in such a guest), vm-run's description of that level."""
    kind = host.parse_machine_kind((CPUINFO / "qemu-7.2-tcg-cpu-max.txt").read_text())
    monkeypatch.setattr(host, "machine_kind", lambda: kind)
    monkeypatch.setenv("GUESTDBG_VM_OUTER", VM_OUTER)
    monkeypatch.setenv("GUESTDBG_VM_OUTER_FIXED", "sw-breakpoints")


def test_plain_kvm_in_vm_runs_vm_is_on_an_unfaithful_level(in_vm_run_vm: None) -> None:
    kvm = MatrixPoint("kvm", 2, None)
    assert levels.unfaithful_level(kvm) == (VM_OUTER, frozenset({"sw-breakpoints"}))
    assert levels.unfaithful_level(MatrixPoint("tcg", 2, None)) is None


def test_plain_kvm_on_a_hardware_assisted_vm_is_faithful(monkeypatch: pytest.MonkeyPatch) -> None:
    kind = host.parse_machine_kind((CPUINFO / "amd-epyc-vm.txt").read_text())
    monkeypatch.setattr(host, "machine_kind", lambda: kind)
    assert levels.unfaithful_level(MatrixPoint("kvm", 2, None)) is None


def test_a_stall_of_plain_kvm_in_vm_runs_vm_is_not_judged(in_vm_run_vm: None) -> None:
    """An RCU stall on the console of a plain-kvm guest in vm-run's VM is the
    outer TCG's (it sometimes never wakes a vCPU), as for nested guests: not
    judged, never a defect; other findings and TCG guests are judged."""
    kvm = _request(MatrixPoint("kvm", 2, None))
    why = reporting._stall_of_the_outer_level(kvm, {"console-rcu_stall", "no-progress"})  # type: ignore[arg-type]
    assert why is not None and why.startswith("not judged: the guest reported console-rcu_stall")
    assert VM_OUTER in why
    assert reporting._stall_of_the_outer_level(kvm, {"no-progress"}) is None  # type: ignore[arg-type]
    tcg = _request(MatrixPoint("tcg", 2, None))
    assert reporting._stall_of_the_outer_level(tcg, {"console-rcu_stall"}) is None  # type: ignore[arg-type]
