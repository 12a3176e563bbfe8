"""One schema for the options that choose guests and the suite's matrix.

Each :class:`Option` is declared once, with the check of its value (a bad
value is one sentence), its help and default, and the form it takes in each
place it is offered:

- ``guest``: ``guestdbg boot`` and ``guestdbg repro`` (one guest: single values);
- ``suite``: ``guestdbg run``/``nightly`` (argparse) and the pytest plugin's
  ``--guestdbg-NAME`` options (matrix axes: comma lists or repeatable).

``guestdbg run``/``nightly`` parse the suite options once, with argparse, and
hand the values to pytest as a plugin object
(:class:`guestdbg.cli.run.SuiteValues`), which sets them on pytest's option
namespace: no parse → argv → parse.

The accelerator a user writes is ``tcg``, ``kvm`` or ``kvm-nested``; only
here (and in test ids) is ``kvm-nested`` a word: the rest of the framework
sees an accelerator (``tcg``/``kvm``) and a placement (``local``/``nested``,
:mod:`guestdbg.runtime.placement`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# -- accelerator and placement ---------------------------------------------------

NESTED = "kvm-nested"  # KVM inside a nested KVM host (runtime.nested)
ACCEL_VALUES = ("tcg", "kvm", NESTED)


def split_accel(value: str) -> tuple[str, str]:
    """A user's accelerator as (QEMU's accelerator, placement kind)."""
    return ("kvm", "nested") if value == NESTED else (value, "local")


def accel_label(accel: str, placement: str) -> str:
    """The accelerator as users write it and test ids show it."""
    return NESTED if placement == "nested" else accel


def wants_nested(accels: str | None) -> bool:
    """Whether a comma list of accelerators asks for nested KVM hosts."""
    return NESTED in csv(accels or "")


# -- value checks (argparse.ArgumentTypeError: one sentence) ----------------------


def csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def positive_int(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def sstep_flags(text: str) -> int:
    """QEMU single-step flags: ENABLE=1, NOIRQ=2, NOTIMER=4 (0x1..0x7)."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number (single-step flags: ENABLE=0x1, NOIRQ=0x2, NOTIMER=0x4)"
        ) from None
    if not 0 < value <= 0x7 or not value & 0x1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: single-step flags must include ENABLE (0x1) and be at most 0x7"
        )
    return value


def sstep_text(text: str) -> str:
    return hex(sstep_flags(text))


def one_of(allowed: tuple[str, ...], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(f"unknown {what} {text}: use {', '.join(allowed)}")
        return text

    return parse


def kernel_tree(text: str) -> str:
    """A --kernel-tree value: a named tree or a directory (made absolute)."""
    from guestdbg.images.kernels import NAMED_TREES

    if text in NAMED_TREES:
        return text
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a kernel tree directory nor one of {', '.join(NAMED_TREES)}"
        )
    return str(path.resolve())


def host_kernel(text: str) -> str:
    """A --host-kernel value: a named host kernel or a directory (made absolute)."""
    from guestdbg.images.host_kernels import NAMED_HOSTS

    if text in NAMED_HOSTS:
        return text
    path = Path(text).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a built kernel tree directory nor one of {', '.join(NAMED_HOSTS)}"
        )
    return str(path.resolve())


def tool_value(what: str) -> Callable[[str], str]:
    """A --qemu or --gdb value: a name guestdbg resolves, or a binary (checked now)."""

    def parse(text: str) -> str:
        from guestdbg.images import tools

        return tools.check_qemu(text) if what == "qemu" else tools.check_gdb(text)

    return parse


def csv_of(parse: Callable[[str], Any], what: str) -> Callable[[str], str]:
    """A comma list, each value checked by ``parse``; normalised text."""

    def parse_list(text: str) -> str:
        values = csv(text)
        if not values:
            raise argparse.ArgumentTypeError(f"{text!r} is not a list of {what}")
        return ",".join(str(parse(v)) for v in values)

    return parse_list


def tree_help() -> str:
    from guestdbg.images.kernels import NAMED_TREES

    return f"a built kernel tree, or one of {', '.join(NAMED_TREES)}"


def host_help() -> str:
    from guestdbg.images.host_kernels import NAMED_HOSTS

    names = ", ".join(NAMED_HOSTS)
    return f"kvm-nested: the nested KVM host's kernel, one of {names} or a built tree with KVM"


# -- the schema -------------------------------------------------------------------

GUEST, SUITE = "guest", "suite"
ONE, CSV, APPEND, FLAG = "one", "csv", "append", "flag"


@dataclass(frozen=True)
class Option:
    """One option. ``forms``: where it is offered and how (``one`` value, a
    ``csv`` list, ``append`` (repeatable), a ``flag``); ``defaults``: its
    default there (the suite's defaults are the pytest plugin's, so that
    ``guestdbg run`` passes on only what the user gave)."""

    name: str
    help: str | Callable[[], str]
    parse: Callable[[str], Any] | None = None
    forms: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    metavar: str | None = None
    what: str = "values"  # for a bad comma list: "a list of <what>"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    def text(self) -> str:
        return self.help() if callable(self.help) else self.help

    def kwargs(self, scope: str) -> dict[str, Any]:
        form = self.forms[scope]
        kw: dict[str, Any] = {"help": self.text()}
        if self.metavar:
            kw["metavar"] = self.metavar
        if form == FLAG:
            kw["action"] = "store_true"
            return kw
        if form == CSV and self.parse is not None:
            kw["type"] = csv_of(self.parse, self.what)
        elif self.parse is not None:
            kw["type"] = self.parse
        if form == APPEND:
            kw["action"] = "append"
            kw["default"] = []
        else:
            kw["default"] = self.defaults.get(scope)
        return kw


OPTIONS: tuple[Option, ...] = (
    Option(
        "accel",
        "tcg, kvm or kvm-nested (KVM inside a nested KVM host, only when asked); the suite "
        "takes a comma list (default: those the host probe finds usable; KVM cases on a host "
        "without usable KVM skip with the reason)",
        one_of(ACCEL_VALUES, "accelerator"),
        {GUEST: ONE, SUITE: CSV},
        what="accelerators",
    ),
    Option(
        "kernel-tree",
        lambda: (
            tree_help() + "; the suite takes it repeatedly, each a matrix value "
            "(default: default, the 6.1 tree built from linux-source-6.1)"
        ),
        kernel_tree,
        {GUEST: ONE, SUITE: APPEND},
        metavar="PATH|NAME",
    ),
    Option(
        "host-kernel",
        lambda: (
            host_help() + "; the suite takes it repeatedly, each a matrix value "
            "(default: debian-6.1)"
        ),
        host_kernel,
        {GUEST: ONE, SUITE: APPEND},
        defaults={GUEST: "debian-6.1"},
        metavar="NAME|PATH",
    ),
    Option(
        "smp",
        "vCPUs (the suite: a comma list; default 2)",
        positive_int,
        {GUEST: ONE, SUITE: CSV},
        defaults={GUEST: 2, "pytest": "2"},
        what="vCPU counts",
    ),
    Option(
        "cpu",
        "QEMU -cpu model (default: QEMU's under TCG, host under KVM)",
        None,
        {GUEST: ONE, SUITE: ONE},
    ),
    Option(
        "memory",
        "guest RAM in MiB (default 512)",
        positive_int,
        {GUEST: ONE, SUITE: ONE},
        defaults={GUEST: 512, "pytest": 512},
    ),
    Option("append", "extra kernel command line", None, {GUEST: ONE}, defaults={GUEST: ""}),
    Option(
        "sstep",
        "QEMU single-step flags for the known-good scenarios, e.g. 0x1: ENABLE only, "
        "interrupts are taken while stepping (default: QEMU's own)",
        sstep_text,
        {SUITE: ONE},
    ),
    Option(
        "bp-kind",
        "comma list of breakpoint kinds: sw (int3), hw (debug registers)",
        one_of(("sw", "hw"), "breakpoint kind"),
        {SUITE: CSV},
        defaults={"pytest": "sw,hw"},
        what="breakpoint kinds",
    ),
    Option(
        "artifacts",
        "where logs go: for one guest its console, QMP and gdb logs; for the suite the "
        "per-test artifacts root (default ./artifacts)",
        Path,
        {GUEST: ONE, SUITE: ONE},
        defaults={"pytest": "artifacts"},
    ),
    Option("keep-artifacts", "keep artifacts of passing tests too", None, {SUITE: FLAG}),
    Option(
        "boot-timeout",
        "seconds to reach the guest's shell, booted or restored (default 90)",
        positive_float,
        {GUEST: ONE, SUITE: ONE},
        defaults={GUEST: 90.0, "pytest": 90.0},
    ),
    Option(
        "stop-timeout",
        "seconds gdb may wait for a command's result or a stop (default 60)",
        positive_float,
        {SUITE: ONE},
        defaults={"pytest": 60.0},
    ),
    Option(
        "no-snapshot",
        "boot every guest instead of restoring the snapshot of a booted one "
        "(the early-boot scenario always boots)",
        None,
        {GUEST: FLAG, SUITE: FLAG},
    ),
    Option(
        "qemu",
        "the QEMU to test: 'system' (this machine's), 'debian-10.0' (bookworm-backports' "
        "QEMU 10.0.2, fetched into the cache) or a binary; the suite takes it repeatedly, "
        "each a matrix value (default: system)",
        tool_value("qemu"),
        {GUEST: ONE, SUITE: APPEND},
        defaults={GUEST: "system"},
        metavar="NAME|PATH",
    ),
    Option(
        "gdb",
        "the gdb to test: 'system' (this machine's), 'debian-16' (trixie's gdb 16, built into "
        "the cache on first use) or a binary; repeatable, each a matrix value (default: system)",
        tool_value("gdb"),
        {SUITE: APPEND},
        metavar="NAME|PATH",
    ),
)


def options_for(scope: str) -> Iterable[Option]:
    return (o for o in OPTIONS if scope in o.forms)


def add_argparse(parser: argparse.ArgumentParser | Any, scope: str) -> None:
    """The ``scope`` options on an argparse parser or argument group (the
    suite's with no defaults: pytest's apply to what the user did not give)."""
    for o in options_for(scope):
        kw = o.kwargs(scope)
        if scope == SUITE and o.forms[scope] != APPEND and o.forms[scope] != FLAG:
            kw["default"] = None
        parser.add_argument(f"--{o.name}", dest=o.dest, **kw)


PYTEST_PREFIX = "--guestdbg-"


def pytest_dest(o: Option) -> str:
    return "guestdbg_" + o.dest


def add_pytest(group: Any) -> None:
    """The suite options as the pytest plugin's ``--guestdbg-NAME`` options."""
    for o in options_for(SUITE):
        kw = o.kwargs(SUITE)
        if o.forms[SUITE] not in (APPEND, FLAG):
            kw["default"] = o.defaults.get("pytest")
        if o.name == "artifacts":
            kw.pop("type", None)  # a string: it crosses to pytest-xdist workers
        group.addoption(PYTEST_PREFIX + o.name, dest=pytest_dest(o), **kw)


# The key of a pytest-xdist worker's ``workerinput`` under which the checked
# suite values travel (workers parse only pytest's own argv).
WORKER_VALUES = "guestdbg_suite_values"
# The option value naming where passing cases' scenarios are kept (nightly).
SCENARIOS_DEST = "guestdbg_scenarios"


def suite_values(args: argparse.Namespace) -> dict[str, Any]:
    """The suite options the user gave, as the pytest plugin's option values."""
    values: dict[str, Any] = {}
    for o in options_for(SUITE):
        value = getattr(args, o.dest, None)
        if value is None or value is False or value == []:
            continue
        if isinstance(value, Path):
            value = str(value.resolve())
        values[pytest_dest(o)] = value
    return values


__all__ = [
    "ACCEL_VALUES",
    "NESTED",
    "OPTIONS",
    "SCENARIOS_DEST",
    "WORKER_VALUES",
    "Option",
    "accel_label",
    "add_argparse",
    "add_pytest",
    "split_accel",
    "suite_values",
]
