"""One option schema: argparse's and pytest's options come from it, and a
value ``guestdbg run`` checked reaches pytest as it was checked."""

from __future__ import annotations

import argparse

import pytest
from guestdbg import options
from guestdbg.cli.guest_options import add_guest_options
from guestdbg.cli.run import SuiteValues
from guestdbg.cli.suite_options import add_suite_options
from guestdbg.pytest_plugin.options import MatrixPoint


def parse_suite(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_suite_options(p)
    return p.parse_args(argv)


def test_every_suite_option_is_a_pytest_option_of_the_same_name() -> None:
    group: list[str] = []

    class Group:
        def addoption(self, name: str, **kw: object) -> None:
            group.append(name)

    options.add_pytest(Group())
    p = argparse.ArgumentParser()
    add_suite_options(p)
    cli = {a.option_strings[0] for a in p._actions if a.option_strings} - {"-h", "--repeat"}
    assert {n.removeprefix("--guestdbg-") for n in group} == {c.removeprefix("--") for c in cli}


def test_the_checked_values_are_what_pytest_gets() -> None:
    args = parse_suite(
        "--accel", "tcg,kvm-nested", "--smp", "0x2,1", "--kernel-tree", "default",
        "--sstep", "1", "--no-snapshot", "--repeat", "3",
    )  # fmt: skip
    values = SuiteValues(args).values
    assert values["guestdbg_accel"] == "tcg,kvm-nested"
    assert values["guestdbg_smp"] == "2,1"
    assert values["guestdbg_kernel_tree"] == ["default"]
    assert values["guestdbg_sstep"] == "0x1"
    assert values["guestdbg_no_snapshot"] is True
    assert values["count"] == 3
    assert "guestdbg_boot_timeout" not in values  # not given: pytest's default applies


def test_a_guest_takes_one_value_where_the_suite_takes_a_list() -> None:
    p = argparse.ArgumentParser()
    add_guest_options(p)
    with pytest.raises(SystemExit):
        p.parse_args(["--accel", "tcg,kvm"])
    assert p.parse_args(["--accel", "kvm-nested"]).accel == "kvm-nested"


def test_kvm_nested_is_kvm_in_a_nested_placement_and_its_id_says_so() -> None:
    assert options.split_accel("kvm-nested") == ("kvm", "nested")
    assert options.split_accel("tcg") == ("tcg", "local")
    point = MatrixPoint("kvm", 2, None, None, "debian-5.10", "debian-5.10", "nested")
    assert point.id == "kvm-nested-debian-5.10-smp2"
    tools = MatrixPoint("tcg", 2, None, qemu="debian-10.0", qemu_label="debian-10.0",
                        gdb_label="system")  # fmt: skip
    assert tools.id == "tcg-smp2-qemu-debian-10.0-gdb-system"
