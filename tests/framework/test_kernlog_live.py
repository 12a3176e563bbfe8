"""The console of a live default guest, read by framework.kernlog."""

from __future__ import annotations

import dataclasses

import pytest
from guestdbg import kernlog
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.spec import GuestSpec

pytestmark = pytest.mark.guest

TRIGGER = "/sys/module/guestdbg_test/parameters/trigger"


@pytest.mark.parametrize("smp", [1, 2], ids=["smp1", "smp2"])
def test_the_default_guest_boots_clean(spec: GuestSpec, smp: int, no_leftover_qemu: None) -> None:
    with Guest(dataclasses.replace(spec, smp=smp)) as guest:
        assert guest.run("insmod /lib/modules/guestdbg_test.ko").ok
        assert guest.run("sleep 0.2 && rmmod guestdbg_test").ok
        reports = kernlog.reports_of_guest(guest)
        assert reports == [], "\n\n".join(kernlog.describe(r) for r in reports)
    # and the complete log, read again after QEMU is gone, says the same
    assert kernlog.parse_file(guest.console_log) == []
    guest.discard_artifacts()


def test_the_tf_trigger_is_exactly_one_tf_leak(spec: GuestSpec, no_leftover_qemu: None) -> None:
    with Guest(spec) as guest:
        assert guest.run("insmod /lib/modules/guestdbg_test.ko").ok
        # The WARN is printed while the write runs: it is on the console when
        # the command returns.
        assert guest.run(f"echo tf > {TRIGGER}").ok
        assert guest.run("true").ok
        reports = kernlog.reports_of_guest(guest)
    assert len(reports) == 1, [r.title for r in reports]
    (warn,) = reports
    assert warn.tf_leak and warn.title == "WARNING in exc_debug"
    assert not warn.truncated and warn.file == "arch/x86/kernel/traps.c"
    assert warn.comm == "sh" and warn.modules == ("guestdbg_test",)
    assert any(f.function == "trigger_set" and f.module == "guestdbg_test" for f in warn.frames)
    guest.discard_artifacts()


def test_an_injected_nmi_is_only_the_expected_message(
    spec: GuestSpec, no_leftover_qemu: None
) -> None:
    with Guest(spec) as guest:
        guest.inject_nmi()
        guest.console.expect(rb"Dazed and confused", 20, "the guest's unknown-NMI message")
        assert guest.run("true").ok
        undeclared = kernlog.reports_of_guest(guest)
        declared = kernlog.reports_of_guest(guest, expected=[kernlog.NMI_AFTER_INJECTION])
    assert [(r.kind, r.title) for r in undeclared] == [("NMI", "NMI received for unknown reason")]
    assert undeclared[0].is_finding
    assert [r.expected for r in declared] == [True]
    assert kernlog.findings(declared) == []
    guest.discard_artifacts()
