"""The frame picker: which function a report is about.

A row of :data:`~guestdbg.kernlog.formats.FORMATS` names its sources, in
order: functions that read a report's evidence (its stacks, its header's
fields, its body lines) and offer candidate frames, or decide outright
(syzkaller's rows likewise carry their own stack extractor). :func:`guilty`
runs them, drops the frames that are never guilty (:mod:`.skips`, the row's
own ``skip``) and picks among the rest as the row's :class:`Pick` says.
A new way to find the guilty frame is a new source function, named by the
rows that use it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

from guestdbg.kernlog.lines import DECODED, FUNC
from guestdbg.kernlog.skips import (
    HUNG_BUCKETS,
    LOCK_CORE,
    NEVER_NAMED,
    SKIP_ALWAYS,
    SKIP_HEADER,
    SKIP_HUNG,
    SKIP_STALL,
    STALL_ANCHORS,
    plain,
    strip_syscall_prefix,
)


class RowTraits(Protocol):
    """What the sources read of a report's row (a formats.ReportFormat)."""

    @property
    def rip_guilty(self) -> bool: ...
    @property
    def function_re(self) -> re.Pattern[str] | None: ...
    @property
    def section(self) -> re.Pattern[str] | None: ...


# "at: [<c036a6dc>]     f+0x108/0x134": 3.x printed %pS after padded spaces (testdata 32);
# scripts/decode_stacktrace.sh prints the same site "at: f (file.c:12) mod"
LOCK_AT = re.compile(
    r"\bat: (?:\[<[0-9a-f]+>\]\s+)?"
    + FUNC
    + r"(?:\+0x[0-9a-f]+(?:/0x[0-9a-f]+(?: \[(?P<module>[\w-]+)\])?)?|"
    + DECODED.replace("?P<src>", "")
    + r"(?: (?P<decoded_module>[\w-]+))?)"
)
# print_ip_sym(): "[<ffffffff834dea24>] f+0x../0x.."
LOCK_IP = re.compile(r"^\s*\[<?(?:0x)?[0-9a-f]+>?\]\s+" + FUNC + r"\+0x")
# kernel/workqueue.c show_pwq(): each pwq's cpus, then its in-flight works
WQ_FUNCTION = re.compile(r"^\s+in-flight: \d+(?:\(\w+\))?:" + FUNC)
WQ_PWQ = re.compile(r"^\s+pwq \d+: cpus=(?P<cpus>\S+)")

INTERRUPT_CONTEXTS = frozenset({"IRQ", "NMI", "SOFTIRQ"})
# The interrupt entry a stall's interrupted frames lie below: x86's apic timer, arm64's
# el1h_64_irq (syzkaller's stall stack part "apic_timer_interrupt|...|el1h_64_irq")
_TIMER_INTERRUPT = re.compile(r"apic_timer_interrupt|^el1h_64_irq$")


class Pick(enum.Enum):
    """How the guilty frame is chosen among the candidates left after skipping."""

    FIRST = "first"
    STALL = "stall"  # the frame above the first dispatching frame (syscall, work item...)
    HUNG = "hung"  # the first frame that is not waiting machinery; rtnl/RCU buckets


@dataclass(frozen=True)
class Entry:
    """A candidate for the guilty frame: a call-trace frame or a RIP line."""

    function: str
    module: str | None
    context: str
    rip: bool
    main: bool  # in the report's own stack (not an allocation or NMI backtrace stack)
    after_interrupt: bool  # below the interrupt that reported (a stall's task frames)
    preamble: bool = False  # printed before the call trace (lockdep's dependency chain)
    section: str | None = None  # the section line of the secondary stack it is in
    caller: bool = False  # an arm line's "from" frame, until the next line repeats it


@dataclass(frozen=True)
class Evidence:
    """What a report offers its sources: the frames and RIP lines it read (in
    order), its fields (the header's among them), its body lines, its row."""

    entries: list[Entry]
    fields: dict[str, str]
    body: list[str]
    fmt: RowTraits

    @property
    def main(self) -> list[Entry]:
        return [e for e in self.entries if e.main]


Named = tuple[str | None, str | None]  # a function and its module


@dataclass
class Found:
    """What the sources found so far: candidate frames in order, a function
    named only if no candidate is left (``fallback``), or the decision."""

    names: list[tuple[str, str | None]] = field(default_factory=list)
    fallback: Named = (None, None)
    chosen: Named | None = None


# A source reads the evidence, with the row's skip pattern and pick, into what was found.
Source = Callable[[Evidence, re.Pattern[str] | None, Pick, Found], None]


def header_function(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """The function the header names (KASAN, KMSAN, KCSAN...), unless machinery:
    then it is named only if nothing else is."""
    function = ev.fields.get("function")
    if not function:
        return
    name = plain(function)
    if not SKIP_HEADER.search(name) and not (skip is not None and skip.search(name)):
        found.chosen = (strip_syscall_prefix(name), ev.fields.get("module"))
    elif not NEVER_NAMED.search(name) and found.fallback[0] is None:
        found.fallback = (name, ev.fields.get("module"))


def faulting_ip(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """The faulting instruction: RIP:, IP:, pc :, PC is at. Guilty outright in a
    row with ``rip_guilty`` (page faults, general protection faults)."""
    rips = [e for e in ev.main if e.rip][:1]
    if ev.fmt.rip_guilty:
        if rips and not SKIP_HEADER.search(plain(rips[0].function)):
            found.chosen = (strip_syscall_prefix(plain(rips[0].function)), rips[0].module)
            return
        if rips and LOCK_CORE.search(rips[0].function) and found.fallback[0] is None:
            found.fallback = (plain(rips[0].function), rips[0].module)
    found.names.extend((e.function, e.module) for e in rips)


def call_trace(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """The call trace, after the RIP line when the trace holds one."""
    main = ev.main
    # The WARN/oops stack starts at its RIP line when the trace holds one
    # (panic_on_warn prints the panic's frames first).
    rips = [i for i, e in enumerate(main) if e.rip]
    start = 0
    if rips and all(SKIP_ALWAYS.search(plain(e.function)) for e in main[: rips[0]]):
        start = rips[0] + 1
    rest = [e for e in main[start:] if not e.rip]
    if rest and rest[0].context in INTERRUPT_CONTEXTS:
        # the trace (below the RIP line, if any) starts on an interrupt stack:
        # the fault happened there (a timer callback, a softirq), before what
        # it interrupted
        got = [e for e in rest if not e.after_interrupt] or rest
    else:
        got = [e for e in rest if e.context not in INTERRUPT_CONTEXTS]
    found.names.extend((e.function, e.module) for e in got)


def interrupted_task(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """What the timer interrupt that detected a stall or lockup interrupted."""
    found.names.extend((e.function, e.module) for e in _interrupted(ev))


def _interrupted(ev: Evidence) -> list[Entry]:
    # The frames below the timer interrupt, in any context (a softirq it hit runs on
    # the IRQ stack before <EOI>), else those after the interrupt's end marker.
    # syzkaller: from the first apic_timer_interrupt frame, the next RIP line (what
    # the interrupt hit) and the frames after it
    main = ev.main
    timer = [i for i, e in enumerate(main) if _TIMER_INTERRUPT.search(e.function)]
    if timer:
        rip = next((i for i in range(timer[0] + 1, len(main)) if main[i].rip), None)
        if rip is not None:
            return main[rip:]
    if timer and timer[-1] + 1 < len(main):
        return main[timer[-1] + 1 :]
    if not timer:
        # syzkaller's part is searched in the whole report: on arm64 the CPU that
        # detected its own stall is dumped under "Task dump for CPU n:", after
        # the CPU where the grace-period kthread last ran (testdata 688)
        every = [e for e in ev.entries if not e.rip]
        timer = [i for i, e in enumerate(every) if _TIMER_INTERRUPT.search(e.function)]
        if timer and timer[0] + 1 < len(every):
            return every[timer[0] + 1 :]
    after = [e for e in main if e.after_interrupt]
    if after:
        return after
    return [e for e in main if e.context not in INTERRUPT_CONTEXTS]


def from_ip_down(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """Every frame from the first RIP line on, in any context (soft lockups)."""
    main = ev.main
    rip = next((i for i, e in enumerate(main) if e.rip), 0)
    found.names.extend((e.function, e.module) for e in main[rip:])


def lock_site(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """lockdep's "at: f+0x..": the lock being taken or released (the row's
    ``function_re`` in its body lines)."""
    if _body_function(ev, found) and found.names:
        found.chosen = (strip_syscall_prefix(plain(found.names[0][0])), found.names[0][1])


def lock_ip(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """lockdep's "[<address>] f+0x..": the ip it printed (print_ip_sym)."""
    ip = next((m for m in map(LOCK_IP.match, ev.body) if m), None)
    if ip:
        found.names.append((ip.group("function"), None))


def lock_chain(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """lockdep's first two "at:" sites, then its dependency chain's frames."""
    sites = (m for m in map(LOCK_AT.search, ev.body) if m)
    found.names.extend((m.group("function"), _module(m)) for m in islice(sites, 2))
    found.names.extend((e.function, e.module) for e in ev.entries if e.preamble)


def body_line(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """The function in the first body line the row's ``function_re`` finds one in
    (the work function of a workqueue leak)."""
    _body_function(ev, found)


def _body_function(ev: Evidence, found: Found) -> bool:
    """Whether the row reads its body for a function (then the first found is added)."""
    if ev.fmt.function_re is None:
        return False
    for text in ev.body:
        m = ev.fmt.function_re.search(text)
        if m:
            found.names.append((m.group("function"), _module(m)))
            break
    return True


def _module(m: re.Match[str]) -> str | None:
    """The module a body line names after its function ("[mod]", or decode_stacktrace.sh's
    bare "mod"), if its pattern reads one."""
    groups = m.groupdict()
    return groups.get("module") or groups.get("decoded_module")


def stuck_work(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """The work in flight on the stuck pool's pwq (show_pwq() prints each pwq's
    cpus, then its in-flight works), else the first one in flight at all."""
    pool_cpus = ev.fields.get("pool_cpus")
    current, first = None, None
    for text in ev.body:
        m = WQ_PWQ.match(text)
        if m:
            current = m.group("cpus")
            continue
        m = WQ_FUNCTION.match(text)
        if m:
            first = first or m.group("function")
            if pool_cpus is not None and current == pool_cpus:
                found.names.append((str(m.group("function")), None))
                return
    if first:
        found.names.append((first, None))


def allocation_backtrace(
    ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found
) -> None:
    """Every frame printed (kmemleak's allocation backtrace)."""
    found.names.extend((e.function, e.module) for e in ev.entries)


def section_stack(ev: Evidence, skip: re.Pattern[str] | None, pick: Pick, found: Found) -> None:
    """A secondary stack of its own, under the row's ``section`` line (page_owner's):
    named from it when it names anything."""
    want = ev.fmt.section
    if want is None:
        return
    for e in ev.entries:
        if e.section is not None and want.search(e.section):
            name = plain(e.function)
            if not _skipped(name, skip, pick):
                found.chosen = (strip_syscall_prefix(name), e.module)
                return


def guilty(
    ev: Evidence, sources: tuple[Source, ...], skip: re.Pattern[str] | None, pick: Pick
) -> Named:
    """The guilty function and its module, from the first source that has one."""
    found = Found()
    for source in sources:
        source(ev, skip, pick, found)
        if found.chosen is not None:
            return found.chosen
    plain_names = [(plain(n), mod) for n, mod in found.names]
    kept = [(strip_syscall_prefix(n), mod) for n, mod in plain_names if not _skipped(n, skip, pick)]
    if not kept:
        return found.fallback
    if pick == Pick.STALL:
        # dispatchers are recognised by their own names (__x64_sys_ioctl, not "ioctl")
        return _stall_frame([(n, mod) for n, mod in plain_names if not _skipped(n, skip, pick)])
    if pick == Pick.HUNG:
        return _hung_frame(kept)
    return kept[0]


def _skipped(name: str, skip: re.Pattern[str] | None, pick: Pick) -> bool:
    if SKIP_ALWAYS.search(name) or (skip is not None and skip.search(name)):
        return True
    if pick == Pick.STALL and SKIP_STALL.search(name):
        return True
    return pick == Pick.HUNG and not _hung_bucket(name) and bool(SKIP_HUNG.search(name))


def _stall_frame(names: list[tuple[str, str | None]]) -> Named:
    """The frame above the first dispatching one (syzkaller's convention:
    the syscall, work item or file operation the CPU was stuck in)."""
    prev = names[0]
    for name, module in names:
        if STALL_ANCHORS.search(name):
            if "smp_call_function" in name:
                return "smp_call_function", None
            return strip_syscall_prefix(prev[0]), prev[1]
        prev = (name, module)
    return strip_syscall_prefix(names[0][0]), names[0][1]


def _hung_frame(names: list[tuple[str, str | None]]) -> Named:
    """The first frame holding a bucket's name (``__synchronize_srcu`` is in the
    synchronize_rcu bucket, ``rtnl_lock_killable`` in its own: syzkaller's
    hang extractor), else the first frame that is not waiting machinery."""
    for name, module in names:
        bucket = _hung_bucket(name)
        if bucket:
            return bucket, module
    return names[0]


def _hung_bucket(name: str) -> str | None:
    for anchor, bucket in HUNG_BUCKETS.items():
        if anchor in name:
            return bucket or name
    return None
