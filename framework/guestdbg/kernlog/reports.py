"""What kernlog returns: :class:`KernelReport` (with its :class:`Frame`
list), and guestdbg's policy on top of the kernel's formats: the TF-leak
WARN (:func:`is_tf_leak`) and messages a scenario declares expected
(:class:`Expected`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Frame:
    """One call-trace line.

    function: the symbol as printed (compiler suffixes such as ``.isra.0``
        kept), None for an address-only frame. offset/size: the ``+0x1/0x2``.
    module: the ``[module]`` the symbol is in, None for the kernel.
    context: the stack the frame is on, from the kernel's markers: ``TASK``,
        ``IRQ``, ``SOFTIRQ``, ``NMI``, ``#DB``, ``#MC``..., "" before any marker.
    reliable: False for the unwinder's ``? func`` guesses.
    source: ``file.c:123`` when the trace was symbolized, else None.
    """

    function: str | None
    offset: int | None
    size: int | None
    module: str | None
    context: str
    reliable: bool
    source: str | None
    inline: bool
    line: str

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "offset": self.offset,
            "size": self.size,
            "module": self.module,
            "context": self.context,
            "reliable": self.reliable,
            "source": self.source,
            "inline": self.inline,
        }

    def __str__(self) -> str:
        return self.line.strip()


@dataclass(frozen=True)
class KernelReport:
    """What the kernel said went wrong, as data.

    kind: ``WARNING``, ``BUG``, ``OOPS``, ``PANIC``, ``KASAN``, ``KMSAN``,
        ``KCSAN``, ``KFENCE``, ``UBSAN``, ``LOCKDEP``, ``MEMORY_LEAK``,
        ``SOFT_LOCKUP``, ``HARD_LOCKUP``, ``RCU_STALL``, ``HUNG_TASK``,
        ``WORKQUEUE_LOCKUP``, ``REFCOUNT``, ``LIST_CORRUPTION``, ``NMI`` or
        ``REBOOT`` (a new boot after other output, when nothing else was reported)
        (:data:`guestdbg.kernlog.formats.KINDS`).
    title: one stable line naming the bug the way syzbot does
        (``WARNING in exc_debug``, ``KASAN: use-after-free Read in f``): no
        addresses, offsets or line numbers, so equal bugs have equal titles.
    header: the line that started the report, console prefix removed.
    location: ``file:line`` the kernel named (WARNING, kernel BUG, UBSAN...).
    function: the guilty function (the WARN site, the faulting RIP, or the
        first call-trace frame that is not reporting machinery), compiler
        suffixes removed. module: the module it is in, None for the kernel.
    cpu, pid, comm: where it happened. taint: the taint flags (``"O"``, ``"OL"``),
        "" for "Not tainted", None when not printed. release: ``uname -r``.
    rip: the ``RIP:`` line of the report's own register dump.
    message: the text the kernel attached (the WARN message, the panic reason).
    frames: the call trace, all stacks, in order. modules: ``Modules linked in``.
    raw: the report's console lines exactly as printed (line terminators
        removed), joined with ``\\n``.
    start_line, end_line: 1-based line numbers in the console text.
    start_time, end_time: printk timestamps (seconds since boot) of its first
        and last timestamped lines.
    truncated: the console stopped (end of text, a reset) before the report
        was complete.
    corrupted: the report cannot be read whole: it was cut short, or other
        lines (another CPU's) were interleaved with it where nothing (a printk
        caller id) tells them apart; corrupted_reason says which. A corrupted
        report whose guilty frame was lost is titled ``... in corrupted``.
    tf_leak: the WARN in exc_debug (arch/x86/kernel/traps.c) that a host's
        single-step TF flag leaking into the guest causes (see :func:`is_tf_leak`).
    expected: declared expected by the caller (see :class:`Expected`); an
        expected report is not a finding. expected_because says why.
    """

    kind: str
    title: str
    header: str
    location: str | None = None
    function: str | None = None
    module: str | None = None
    cpu: int | None = None
    pid: int | None = None
    comm: str | None = None
    taint: str | None = None
    release: str | None = None
    rip: str | None = None
    message: str | None = None
    frames: tuple[Frame, ...] = ()
    modules: tuple[str, ...] = ()
    raw: str = ""
    start_line: int = 0
    end_line: int = 0
    start_time: float | None = None
    end_time: float | None = None
    truncated: bool = False
    corrupted: bool = False
    corrupted_reason: str | None = None
    tf_leak: bool = False
    expected: bool = False
    expected_because: str | None = None

    @property
    def is_finding(self) -> bool:
        return not self.expected

    @property
    def file(self) -> str | None:
        """The path part of :attr:`location`."""
        return self.location.rsplit(":", 1)[0] if self.location else None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "tf_leak": self.tf_leak,
            "truncated": self.truncated,
            "corrupted": self.corrupted,
            "corrupted_reason": self.corrupted_reason,
            "expected": self.expected,
            "expected_because": self.expected_because,
            "location": self.location,
            "function": self.function,
            "module": self.module,
            "cpu": self.cpu,
            "pid": self.pid,
            "comm": self.comm,
            "taint": self.taint,
            "release": self.release,
            "rip": self.rip,
            "message": self.message,
            "header": self.header,
            "modules": list(self.modules),
            "frames": [f.to_json() for f in self.frames],
            "start_line": self.start_line,
            "end_line": self.end_line,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "raw": self.raw,
        }


@dataclass(frozen=True)
class Expected:
    """A message a scenario declares expected: a report of ``kind`` (any kind
    when None) whose title or header matches ``pattern`` is marked
    ``expected`` and is not a finding. ``why`` is shown with the report."""

    pattern: str
    kind: str | None = None
    why: str = ""

    def matches(self, report: KernelReport) -> bool:
        if self.kind is not None and report.kind != self.kind:
            return False
        rx = re.compile(self.pattern)
        return bool(rx.search(report.title) or rx.search(report.header))


# The guest's answer to an NMI nobody claims, e.g. one injected over QMP.
NMI_AFTER_INJECTION = Expected(
    r"NMI received for unknown reason",
    kind="NMI",
    why="an NMI injected over QMP (inject-nmi) that no guest handler claims",
)

TF_LEAK_FUNCTIONS = frozenset({"exc_debug", "exc_debug_kernel"})
TF_LEAK_FILE = "arch/x86/kernel/traps.c"


def is_tf_leak(report: KernelReport) -> bool:
    """The host's single-step TF leaked into the guest: the
    ``WARN_ON_ONCE(dr6 & DR_STEP)`` in exc_debug_kernel() (inlined into
    exc_debug) at arch/x86/kernel/traps.c, any line number."""
    return (
        report.kind == "WARNING"
        and report.function in TF_LEAK_FUNCTIONS
        and report.file is not None
        and report.file.endswith(TF_LEAK_FILE)
    )


def findings(reports: Iterable[KernelReport]) -> list[KernelReport]:
    """The reports that are not declared expected."""
    return [r for r in reports if not r.expected]
