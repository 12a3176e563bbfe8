"""Read the guest console like a kernel developer: structured kernel reports.

Feed console text to a :class:`ConsoleParser` (in chunks of any size, as it
streams, or a whole file with :func:`parse_file`) and get
:class:`KernelReport` objects: WARNING (the classic ``WARNING: CPU: N PID: N
at FILE:LINE FUNC+0xOFF/0xLEN`` and the newer ``WARNING: FILE:LINE at
FUNC+0xOFF/0xLEN, CPU#N: COMM/PID``), BUG (page faults, NULL dereferences,
``kernel BUG at``, scheduling while atomic, sleeping in atomic context),
KASAN, soft lockups, Oopses (general protection fault, invalid opcode),
panics, hard lockups, RCU stalls, hung tasks, UBSAN, lockdep, refcount and
list corruption, and NMIs nobody claimed.

How it reads, in short:

* Each kind of report is a row of :data:`FORMATS` (header regex, title
  templates, how it ends, which lines it may contain, which frames are never
  the guilty one). Kinds that the kernel prints as a WARNING with a telling
  message or location (refcount_t, list corruption, old hard lockups) are
  rows of :data:`REFINEMENTS`. Adding a format is adding a row.
* Every line is cleaned (``\\r``, NUL, ANSI escapes, the printk timestamp,
  syslog and caller-id prefixes) and classified (header, frame, context
  marker, register, ``CPU:`` line, end marker, text...). Several reports can
  be open at once; each line goes to the open report whose state accepts it
  best (caller id, CPU number, register order, the context-marker stack,
  then the report whose printk timestamps the line continues, then recency):
  that is how two CPUs' interleaved output is told apart. A line with a
  ``[ T123]``/``[ C1]`` caller id (CONFIG_PRINTK_CALLER) only goes to a
  report of the same caller. Without timestamps or caller ids, two CPUs'
  frame lines interleaved line by line cannot be told apart; the reports
  themselves still are.
* A report ends at its end marker (``---[ end trace``, the closing ``=====``
  of KASAN/UBSAN), when its call trace is over, when the console shows a new
  boot (a reset), or at :meth:`ConsoleParser.close`. A report that ends
  before its call trace (or its closing marker, for kinds that have one) is
  returned with ``truncated=True``, never dropped.
* Work per line is constant: parsing is linear in the size of the console.

Formats handled: x86-64 Linux 3.x to 6.x console output as printed (with or
without printk timestamps, ``dmesg``, syslog/journal prefixes) and as
symbolized by syzkaller (``func+0x1/0x2 file.c:12``, ``[inline]`` lines).
"""

from __future__ import annotations

import codecs
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from guestdbg.errors import InputError

# -- reports ---------------------------------------------------------------------


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

    kind: ``WARNING``, ``BUG``, ``OOPS``, ``PANIC``, ``KASAN``, ``UBSAN``,
        ``LOCKDEP``, ``SOFT_LOCKUP``, ``HARD_LOCKUP``, ``RCU_STALL``,
        ``HUNG_TASK``, ``REFCOUNT``, ``LIST_CORRUPTION`` or ``NMI``.
    title: one stable line naming the bug (``WARNING in exc_debug``): no
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
    truncated: the console stopped (end of text, a reset, a panic) before the
        report was complete.
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


# -- the format table --------------------------------------------------------------

ANY = re.compile(r"")  # a body/tail that accepts every line


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _names(*names: str) -> re.Pattern[str]:
    """Function names (compiler suffixes removed) that are never guilty."""
    return re.compile(r"^(?:" + "|".join(names) + r")$")


@dataclass(frozen=True)
class ReportFormat:
    """One kind of report, as the kernel prints it.

    header: the line that starts it (named groups fill fields: function,
        location, cpu, pid, comm, message, and any name a title uses).
    titles: title templates; the first whose fields are all known is used.
    end: a line that ends the report (kept in it). complete: what a report
        needs to not be truncated: ``"trace"`` its call trace to the end,
        ``"end"`` its end line, ``"header"`` nothing more.
    body: lines it takes between the header and the call trace besides the
        common ones (CPU, Modules linked in, registers...), ANY for all.
    tail: lines it takes after its call trace (another backtrace, an
        allocation stack...), ANY for all.
    absorbs: kinds whose header lines, close after this header, are part of
        this report (the ``Oops:`` line after ``BUG: kernel NULL pointer``).
    summary: registers printed again after the end line (x86 oopses).
    trace: whether it has a call trace at all.
    guilty: where the guilty function comes from, in order: ``header``
        (the header's function group), ``body`` (function_re on the body),
        ``rip`` (the RIP line), ``frames`` (the first reliable frame).
    skip: functions never guilty for this kind (besides :data:`NEVER_GUILTY`).
    fields: regexes tried on every line of the report; named groups fill
        fields not yet known (e.g. KASAN's ``Read of size``).
    body_message: the first body line is the report's message (UBSAN's
        ``index 5 is out of range``).
    message_after_header: the line right after the header is the WARN message
        (architectures that print it after the WARNING line).
    """

    kind: str
    header: re.Pattern[str]
    titles: tuple[str, ...]
    end: re.Pattern[str] | None = None
    complete: str = "trace"
    body: re.Pattern[str] | None = None
    tail: re.Pattern[str] | None = None
    absorbs: frozenset[str] = frozenset()
    summary: bool = False
    trace: bool = True
    guilty: tuple[str, ...] = ("header", "rip", "frames")
    skip: re.Pattern[str] | None = None
    function_re: re.Pattern[str] | None = None
    fields: tuple[re.Pattern[str], ...] = ()
    message_after_header: bool = False
    body_message: bool = False


@dataclass(frozen=True)
class Refinement:
    """A report of one of ``kinds`` whose message, location or absorbed header
    says more becomes ``kind`` (refcount_t and list corruption are WARNINGs
    with a message; a 3.x hard lockup is a WARNING with a second header)."""

    kind: str
    kinds: frozenset[str]
    titles: tuple[str, ...]
    message: re.Pattern[str] | None = None
    location: re.Pattern[str] | None = None
    absorbed: str | None = None
    guilty: tuple[str, ...] = ("rip", "frames")
    skip: re.Pattern[str] | None = None


END_TRACE = _rx(r"^---\[ end trace\b")
END_PANIC = _rx(r"^---\[ end Kernel panic\b")
SEPARATOR = _rx(r"^={20,}\s*$")
FUNC = r"(?P<function>[A-Za-z_.$][\w.$]*)"
OFFSETS = r"\+0x[0-9a-f]+/0x[0-9a-f]+"

# Reporting machinery: never the guilty function of any report.
NEVER_GUILTY = _names(
    r"dump_stack\w*",
    r"show_stack\w*",
    r"show_trace_log_lvl",
    r"__warn\w*",
    r"warn_slowpath\w*",
    r"report_bug",
    r"handle_bug",
    r"exc_invalid_op",
    r"asm_exc_\w+",
    r"panic",
    r"vpanic",
    r"nmi_panic",
    r"__die\w*",
    r"die\w*",
    r"oops_\w+",
    r"page_fault_oops",
    r"kernelmode_fixup_or_oops",
    r"no_context",
    r"__?bad_area\w*",
    r"do_user_addr_fault",
    r"do_kern_addr_fault",
    r"exc_page_fault",
    r"do_error_trap",
    r"do_trap",
    r"exc_general_protection",
    r"kasan_\w+",
    r"__kasan_\w+",
    r"__asan_\w+",
    r"print_report",
    r"print_address_description\w*",
    r"ubsan_\w+",
    r"__ubsan_\w+",
    r"lock_acquire\w*",
    r"__lock_acquire\w*",
    r"check_noncircular",
    r"check_prev_add",
    r"validate_chain",
    r"print_circular_bug\w*",
    r"__schedule_bug",
    r"_*might_sleep",
    r"__might_resched",
    r"__might_fault",
    r"rcu_dump_cpu_stacks",
    r"dump_cpu_task",
    r"nmi_cpu_backtrace\w*",
    r"nmi_trigger_cpumask_backtrace",
    r"arch_trigger_cpumask_backtrace",
    r"watchdog_timer_fn",
    r"watchdog_overflow_callback",
    r"__hrtimer_run_queues",
    r"hrtimer_interrupt",
    r"sysvec_\w+",
    r"asm_sysvec_\w+",
)
SPINNING = _names(
    r"delay_tsc",
    r"delay_loop",
    r"__const_udelay",
    r"__udelay",
    r"__delay",
    r"native_safe_halt",
    r"cpu_relax",
    r"rep_nop",
    r"native_queued_spin_lock_slowpath",
    r"queued_spin_lock_slowpath",
    r"_raw_spin_lock\w*",
    r"do_raw_spin_lock",
    r"rcu_\w+",
    r"update_process_times",
    r"tick_\w+",
)
SLEEPING_NAMES = (
    r"__schedule",
    r"schedule",
    r"schedule_timeout\w*",
    r"schedule_preempt_disabled",
    r"schedule_hrtimeout\w*",
    r"io_schedule\w*",
    r"msleep\w*",
    r"usleep_range\w*",
    r"__wait_\w+",
    r"wait_for_\w+",
    r"\w+_wait_\w+",
    r"__mutex_lock\w*",
    r"mutex_lock\w*",
    r"rwsem_down_\w+",
    r"down_\w+",
)
SLEEPING = _names(*SLEEPING_NAMES)
ALLOCATING_NAMES = (
    r"kmem_cache_alloc\w*",
    r"__?kmalloc\w*",
    r"kzalloc\w*",
    r"slab_pre_alloc_hook",
    r"__alloc_pages\w*",
    r"alloc_pages\w*",
    r"might_alloc",
    r"__mutex_lock\w*",
    r"mutex_lock\w*",
    r"down_\w+",
    r"prepare_alloc_pages\w*",
)
REFCOUNTING = _names(r"refcount_\w+", r"__refcount_\w+")
LISTING = _names(r"__list_\w+", r"list_\w+")

HUNG_BODY = _rx(
    r"^(?:\s+(?:Not tainted|Tainted:)|\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\"|"
    r"task:\S*\s+state:)"
)
RCU_BODY = _rx(
    r"^(?:rcu: |\t|\s+\(|\s*\(detected by|\s+\d+-|\s*\d+-\S*: |rcu_\w+ kthread|"
    r"Unless rcu_\w+ kthread|\s+Unless)"
)
BACKTRACE_TAIL = _rx(
    r"^(?:rcu: |\t|NMI backtrace for cpu|Sending NMI from CPU|CPU: \d+ |Hardware name:|"
    r"RIP:|Code:|R[A-Z0-9]{2}:|[CDEFGS]S:|CR\d:|DR\d:|PKRU:|Call Trace:|task:\S*\s+state:)"
)
MIGHT_SLEEP_BODY = _rx(
    r"^(?:in_atomic\(\)|preempt_count:|RCU nest depth:|\d+ locks? held by|\s+#\d+: |"
    r"Preemption disabled at:|\[<[0-9a-f]+>\])"
)
NMI_BODY = _rx(
    r"^(?:Do you have a strange power saving mode enabled\?|"
    r"Dazed and confused, but trying to continue)"
)
LOCK_AT = _rx(r"\bat: (?P<function>[A-Za-z_.$][\w.$]*)\+0x")
LOCKDEP_TASK = _rx(r"^(?P<comm>\S+)/(?P<pid>\d+) is trying to (?:acquire|release) lock")
KASAN_FIELDS = (
    _rx(r"^(?P<access>Read|Write) of size \d+ at addr \S+ by task (?P<comm>.+)/(?P<pid>\d+)\s*$"),
)
OOPS_ABSORBS = frozenset({"OOPS"})


def _row(kind: str, header: str, *titles: str, **kw: Any) -> ReportFormat:
    return ReportFormat(kind, _rx(header), titles, **kw)


FORMATS: tuple[ReportFormat, ...] = (
    # lockdep first: its headers start with "WARNING:" too.
    _row(
        "LOCKDEP",
        r"^WARNING: possible (?:circular locking dependency|recursive locking) detected",
        "possible deadlock in {function}",
        "possible deadlock",
        body=ANY,
        guilty=("body", "frames"),
        function_re=LOCK_AT,
        fields=(LOCKDEP_TASK,),
    ),
    _row(
        "LOCKDEP",
        r"^WARNING: (?P<what>inconsistent lock state|bad unlock balance|suspicious RCU usage|"
        r"lock held when returning to user space|held lock freed|nested lock was not taken|"
        r"possible irq lock inversion dependency|[\w-]+-safe -> [\w-]+-unsafe lock order)",
        "{what} in {function}",
        "{what}",
        body=ANY,
        guilty=("body", "frames"),
        function_re=LOCK_AT,
        fields=(LOCKDEP_TASK,),
    ),
    # The newer form (Linux 6.18+): WARNING: FILE:LINE at FUNC+0x1/0x2, CPU#N: COMM/PID
    _row(
        "WARNING",
        r"^WARNING: (?P<location>\S+:\d+) at " + FUNC + r"(?:" + OFFSETS + r")?"
        r"(?: \[(?P<module>[\w-]+)\])?(?: \S+:\d+)?(?: \[inline\])?, "
        r"CPU#(?P<cpu>\d+): (?P<comm>.*)/(?P<pid>\d+)\s*$",
        "WARNING in {function}",
        end=END_TRACE,
        absorbs=frozenset({"WARNING", "HARD_LOCKUP"}),
        message_after_header=True,
    ),
    # The classic form: WARNING: CPU: N PID: N at FILE:LINE FUNC+0x1/0x2 [module]
    _row(
        "WARNING",
        r"^WARNING: (?:CPU: (?P<cpu>\d+) PID: (?P<pid>\d+) )?at (?:(?P<location>\S+:\d+) )?"
        + FUNC
        + OFFSETS
        + r"(?: \[(?P<module>[\w-]+)\])?",
        "WARNING in {function}",
        end=END_TRACE,
        absorbs=frozenset({"WARNING", "HARD_LOCKUP"}),
        message_after_header=True,
    ),
    _row(
        "KASAN",
        r"^BUG: KASAN: (?P<bug>[\w-]+) (?:in|on address|on) " + FUNC + r"?(?:" + OFFSETS + r")?",
        "KASAN: {bug} {access} in {function}",
        "KASAN: {bug} in {function}",
        "KASAN: {bug}",
        end=SEPARATOR,
        complete="end",
        body=ANY,
        tail=ANY,
        fields=KASAN_FIELDS,
    ),
    _row(
        "BUG",
        r"^BUG: (?:unable to handle )?kernel NULL pointer dereference(?:, address:| at) "
        r"(?P<address>\S+)",
        "BUG: kernel NULL pointer dereference in {function}",
        "BUG: kernel NULL pointer dereference",
        end=END_TRACE,
        absorbs=OOPS_ABSORBS,
        summary=True,
        guilty=("rip", "frames"),
    ),
    _row(
        "BUG",
        r"^BUG: unable to handle (?:page fault|kernel paging request) (?:for address:|at) "
        r"(?P<address>\S+)",
        "BUG: unable to handle page fault in {function}",
        "BUG: unable to handle page fault",
        end=END_TRACE,
        absorbs=OOPS_ABSORBS,
        summary=True,
        guilty=("rip", "frames"),
    ),
    _row(
        "BUG",
        r"^kernel BUG at (?P<location>\S+?:\d+)!",
        "kernel BUG in {function}",
        "kernel BUG at {location}",
        end=END_TRACE,
        absorbs=OOPS_ABSORBS,
        summary=True,
        guilty=("rip", "frames"),
    ),
    _row(
        "BUG",
        r"^BUG: scheduling while atomic: (?P<comm>.+)/(?P<pid>\d+)/0x[0-9a-f]+",
        "BUG: scheduling while atomic in {function}",
        "BUG: scheduling while atomic",
        body=MIGHT_SLEEP_BODY,
        guilty=("frames",),
        skip=SLEEPING,
    ),
    _row(
        "BUG",
        r"^BUG: sleeping function called from invalid context at (?P<location>\S+)",
        "BUG: sleeping function called from invalid context in {function}",
        "BUG: sleeping function called from invalid context",
        body=MIGHT_SLEEP_BODY,
        guilty=("frames",),
        skip=_names(*SLEEPING_NAMES, *ALLOCATING_NAMES),
    ),
    _row(
        "SOFT_LOCKUP",
        r"^(?:watchdog: )?BUG: soft lockup - CPU#(?P<cpu>\d+) stuck for (?P<seconds>\d+)s! "
        r"\[(?P<comm>.+):(?P<pid>\d+)\]",
        "BUG: soft lockup in {function}",
        "BUG: soft lockup",
        tail=BACKTRACE_TAIL,
        guilty=("rip", "frames"),
        skip=SPINNING,
    ),
    _row(
        "BUG",
        r"^BUG: (?P<what>[A-Za-z][\w ,'-]*?)(?: in |[:!\[(]|\s*$)",
        "BUG: {what} in {function}",
        "BUG: {what}",
        end=END_TRACE,
        absorbs=OOPS_ABSORBS,
        guilty=("rip", "frames"),
    ),
    _row(
        "OOPS",
        r"^(?:Oops: )?general protection fault(?:, (?P<detail>[^:]+))?: [0-9a-f]{4} \[#\d+\]",
        "general protection fault in {function}",
        "general protection fault",
        end=END_TRACE,
        summary=True,
        guilty=("rip", "frames"),
    ),
    _row(
        "OOPS",
        r"^(?:Oops: )?(?P<what>invalid opcode|double fault|stack segment|int3|alignment check|"
        r"divide error|bounds|invalid TSS|segment not present): [0-9a-f]{4} \[#\d+\]",
        "{what} in {function}",
        "{what}",
        end=END_TRACE,
        summary=True,
        guilty=("rip", "frames"),
    ),
    _row(
        "OOPS",
        r"^(?:Internal error: )?Oops(?: - BUG)?: [0-9a-f]+ \[#\d+\]",
        "Oops in {function}",
        "Oops",
        end=END_TRACE,
        summary=True,
        guilty=("rip", "frames"),
    ),
    _row(
        "PANIC",
        r"^Kernel panic - not syncing: (?P<message>.*?)\s*$",
        "Kernel panic: {message}",
        end=END_PANIC,
        guilty=("frames",),
        skip=_names(r"sysrq_handle_\w+", r"__handle_sysrq", r"write_sysrq_trigger"),
    ),
    _row(
        "HARD_LOCKUP",
        r"^(?:NMI watchdog: )?Watchdog detected hard LOCKUP on cpu (?P<cpu>\d+)",
        "hard lockup in {function}",
        "hard lockup",
        tail=BACKTRACE_TAIL,
        guilty=("rip", "frames"),
        skip=SPINNING,
    ),
    _row(
        "RCU_STALL",
        r"^(?:rcu: )?INFO: (?P<flavor>[\w-]+) (?:self-)?detected (?:expedited )?stalls?\b",
        "INFO: rcu detected stall in {function}",
        "INFO: rcu detected stall",
        complete="header",
        body=RCU_BODY,
        tail=BACKTRACE_TAIL,
        guilty=("rip", "frames"),
        skip=SPINNING,
    ),
    _row(
        "HUNG_TASK",
        r"^INFO: task (?P<comm>.+):(?P<pid>\d+) blocked for more than (?P<seconds>\d+) seconds",
        "INFO: task hung in {function}",
        "INFO: task hung",
        body=HUNG_BODY,
        tail=BACKTRACE_TAIL,
        guilty=("frames",),
        skip=SLEEPING,
    ),
    _row(
        "UBSAN",
        r"^UBSAN: (?P<bug>[\w-]+) in (?P<location>\S+?:\d+)(?::\d+)?\s*$",
        "UBSAN: {bug} in {function}",
        "UBSAN: {bug} in {location}",
        end=SEPARATOR,
        complete="end",
        body=ANY,
        guilty=("frames",),
        body_message=True,
    ),
    _row(
        "NMI",
        r"^Uhhuh\. NMI received for unknown reason (?P<reason>\w+) on CPU (?P<cpu>\d+)",
        "NMI received for unknown reason",
        complete="header",
        body=NMI_BODY,
        trace=False,
    ),
    _row(
        "NMI",
        r"^NMI: (?P<what>PCI system error \(SERR\)|IOCK error \(debug interrupt\?\))",
        "NMI: {what}",
        complete="header",
        body=NMI_BODY,
        trace=False,
    ),
)

REFINEMENTS: tuple[Refinement, ...] = (
    Refinement(
        "REFCOUNT",
        frozenset({"WARNING"}),
        ("refcount bug in {function}", "refcount bug"),
        message=_rx(r"^refcount_t: "),
        location=_rx(r"(?:^|/)lib/refcount\.c:"),
        skip=REFCOUNTING,
    ),
    Refinement(
        "LIST_CORRUPTION",
        frozenset({"WARNING", "BUG"}),
        ("list corruption in {function}", "list corruption"),
        message=_rx(r"^list_\w+ corruption"),
        location=_rx(r"(?:^|/)lib/list_debug\.c:"),
        skip=LISTING,
    ),
    Refinement(
        "HARD_LOCKUP",
        frozenset({"WARNING"}),
        ("hard lockup in {function}", "hard lockup"),
        message=_rx(r"Watchdog detected hard LOCKUP"),
        absorbed="HARD_LOCKUP",
        skip=SPINNING,
    ),
)

# -- line classification ------------------------------------------------------------

_NOISE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|[\x00\r\x07]")
_PREFIX = re.compile(
    r"(?:<\d+>)?"  # console loglevel (dmesg -r)
    r"(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: )?"  # syslog, journalctl -k
    r"(?:\[(?P<ts>\s*\d+\.\d+)\]|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4}\])?"
    r"(?:\[\s*(?P<caller>[CT]\d+)\])?"
)
_CUT = re.compile(r"^-+\[ cut here \]-+\s*$")
_CALLTRACE = re.compile(r"^\s*(?:Call Trace|Call trace|Backtrace):?\s*$")
_MARKER = re.compile(
    r"^\s*<(?P<close>/?)(?P<name>IRQ|NMI|TASK|SOFTIRQ|EOI|EOE|#[A-Z]{2})>\s*(?P<rest>.*)$"
)
_FRAME = re.compile(
    r"^\s*(?:\[<[0-9a-f]+>\]\s+)?(?P<q>\?\s+)?(?:\[<[0-9a-f]+>\]\s+)?"
    r"(?P<func>[A-Za-z_.$][\w.$]*)\+0+x(?P<off>[0-9a-f]+)/0+x(?P<size>[0-9a-f]+)"
    r"(?:\s+\[(?P<mod>[\w-]+)\])?(?:\s+(?P<src>\S+:\d+))?(?P<inline>\s+\[inline\])?\s*$"
)
_INLINE_FRAME = re.compile(r"^\s*(?P<func>[A-Za-z_.$][\w.$]*)\s+(?P<src>\S+:\d+)\s+\[inline\]\s*$")
_ADDR_FRAME = re.compile(r"^\s*(?P<q>\?\s+)?0x[0-9a-f]+\s*$")
_REGS = re.compile(
    r"^(?:[RE](?:IP|SP|AX|BX|CX|DX|SI|DI|BP)|R\d{1,2}|[CDEFGS]S|CR\d|DR\d|PKRU|Code):"
)
_RIP_FUNC = re.compile(
    r"^[RE]IP: [0-9a-f]{4}:(?:\[<[0-9a-f]+>\]\s+)*"
    + FUNC
    + OFFSETS
    + r"(?: \[(?P<module>[\w-]+)\])?"
)
_CPU = re.compile(
    r"^CPU: (?P<cpu>\d+) (?:UID: \d+ )?PID: (?P<pid>\d+) Comm: (?P<comm>.*?) "
    r"(?:Not tainted|Tainted: (?P<taint>[A-Z ]*?)) *(?P<release>[^\s#]+) #"
)
_OLD_PID = re.compile(
    r"^Pid: (?P<pid>\d+), comm: (?P<comm>\S+) (?:Not tainted|Tainted: (?P<taint>[A-Z ]*?)) *"
    r"(?P<release>[^\s#]+) #"
)
_RELEASE = re.compile(
    r"^(?:\s+(?:Not tainted|Tainted: (?P<taint>[A-Z ]*?)) *(?P<release>[^\s#]+) #|"
    r"(?P<release2>\d[^\s#]*) #\S+ (?:Not tainted|Tainted: (?P<taint2>[A-Z ]*)))"
)
_MODULES = re.compile(r"^Modules linked in:(?P<mods>.*)$")
_MODULE_CONT = re.compile(r"^\s+[\w-]+(?:\([A-Z+-]+\))?(?:\s+[\w-]+(?:\([A-Z+-]+\))?)*\s*$")
_MODULE_NAME = re.compile(r"^(?P<name>[\w-]+)(?:\([A-Z+-]+\))?$")
_INFO = re.compile(
    r"^(?:Hardware name:|Workqueue:|irq event stamp:|hardirqs last|softirqs last|Tainted: \[|"
    r"Kernel Offset:|task: [0-9a-f]+ |#PF: |PGD [0-9a-f]+|Dumping ftrace|\s+\(ftrace buffer|"
    r"Sending NMI from CPU|NMI backtrace for cpu|stack backtrace:|Preemption disabled at:|"
    r"Rebooting in|note: \S+ exited with|Showing all locks held|Fixing recursive fault|"
    r"Shutting down cpus)"
)
_RESET = re.compile(r"^(?:Linux version \d\S* |SeaBIOS \(version)")
_SUFFIX = re.compile(
    r"(?:\.(?:isra|constprop|part|cold|lto_priv|llvm|clone|localalias)(?:\.\d+)*)+$"
)
_REG_ORDER = {
    k: i
    for i, k in enumerate(
        ["RIP", "Code", "RSP", "RAX", "RDX", "RBP", "R10", "R13", "FS", "CS", "CR2", "DR0", "DR3"]
    )
}

(
    HEADER,
    END,
    CUT,
    CALLTRACE,
    MARKER,
    FRAME,
    REGS,
    CPULINE,
    MODULES,
    INFO,
    SEP,
    RESET,
    TEXT,
) = range(13)

# All headers at once, to skip the (many) ordinary lines with one match.
_HEADER_ANY = re.compile(
    "|".join("(?:" + re.sub(r"\(\?P<\w+>", "(?:", f.header.pattern) + ")" for f in FORMATS)
)
_INTERESTING_END = re.compile(r"^---\[ end (?:trace|Kernel panic)\b")


def _plain(function: str | None) -> str | None:
    return _SUFFIX.sub("", function) if function else function


def _taint(flags: str | None) -> str:
    return "".join(c for c in (flags or "") if c.isalpha() and c != "G")


@dataclass
class _Line:
    no: int
    raw: str
    text: str
    ts: float | None
    caller: str | None


def _clean(no: int, raw: str) -> _Line:
    text = (
        _NOISE.sub("", raw)
        if ("\x1b" in raw or "\x00" in raw or "\r" in raw or "\x07" in raw)
        else raw
    )
    m = _PREFIX.match(text)
    ts: float | None = None
    caller: str | None = None
    if m and m.end():
        if m.group("ts"):
            ts = float(m.group("ts"))
        caller = m.group("caller")
        text = text[m.end() :]
        if text.startswith(" "):
            text = text[1:]
    return _Line(no, raw, text, ts, caller)


def _classify(text: str) -> tuple[int, Any]:
    if _HEADER_ANY.match(text):
        for fmt in FORMATS:
            m = fmt.header.match(text)
            if m:
                return HEADER, (fmt, m)
    if text.startswith("---[") and _INTERESTING_END.match(text):
        return END, None
    if _REGS.match(text):
        return REGS, text.split(":", 1)[0]
    m = _FRAME.match(text) or _INLINE_FRAME.match(text) or _ADDR_FRAME.match(text)
    if m:
        return FRAME, m
    m = _MARKER.match(text)
    if m:
        return MARKER, m
    if _CALLTRACE.match(text):
        return CALLTRACE, None
    if text.startswith(("CPU: ", "Pid: ")):
        m = _CPU.match(text) or _OLD_PID.match(text)
        if m:
            return CPULINE, m
    if text.startswith("Modules linked in:"):
        return MODULES, _MODULES.match(text)
    if _INFO.match(text):
        return INFO, None
    if text.startswith("==") and SEPARATOR.match(text):
        return SEP, None
    if _CUT.match(text):
        return CUT, None
    if _RESET.match(text):
        return RESET, None
    return TEXT, None


# -- a report being read ---------------------------------------------------------------

PREAMBLE, TRACE, AFTER, SUMMARY = "preamble", "trace", "after", "summary"
_STRUCTURAL = (CALLTRACE, CPULINE, MODULES, REGS, END, SEP)
IDLE_LIMIT = 60  # lines a report waiting for its end marker may go without one of its own
LINGER = 8  # lines during which a report closed by a foreign line may take frames again


class _Open:
    """A report still being read."""

    def __init__(self, fmt: ReportFormat, line: _Line, match: re.Match[str]) -> None:
        self.fmt = fmt
        self.header = line.text
        self.lines: list[_Line] = []
        self.fields: dict[str, str] = {k: v for k, v in match.groupdict().items() if v is not None}
        self.state = PREAMBLE
        self.frames: list[Frame] = []
        self.contexts: list[str] = []
        self.modules: list[str] = []
        self.rip: str | None = None
        self.message: str | None = self.fields.get("message")
        self.absorbed: list[str] = []
        self.body: list[str] = []
        self.has_cpu_line = False
        self.trace_done = False
        self.ended = False
        self.last_type = HEADER
        self.last_reg: str | None = None
        self.idle = 0
        self.caller = line.caller
        self.last_ts = line.ts

    # -- routing ---------------------------------------------------------------
    def score(self, lt: int, line: _Line, extra: Any) -> int:
        """How well the line fits this report (<0: not at all)."""
        if self.caller is not None and line.caller is not None and line.caller != self.caller:
            return -1
        bonus = 100 if (self.caller is not None and line.caller == self.caller) else 0
        s = self._score(lt, line, extra)
        return s + bonus if s >= 0 else s

    def _score(self, lt: int, line: _Line, extra: Any) -> int:
        fmt, text, st = self.fmt, line.text, self.state
        if (
            lt == TEXT
            and self.last_type == MODULES
            and st in (PREAMBLE, AFTER)
            and _MODULE_CONT.match(text)
        ):
            return 40
        if st == PREAMBLE:
            if lt == CALLTRACE:
                if _REG_ORDER.get(self.last_reg or "", 99) < _REG_ORDER["CR2"]:
                    return -1  # its register dump is not over: the trace comes after it
                lead_in = self.last_type in (CPULINE, INFO, REGS) or (
                    self.body and self.lines[-1].text is self.body[-1]
                )
                return 10 + (10 if self.has_cpu_line else 0) + (10 if lead_in else 0)
            if lt == CPULINE:
                if self.has_cpu_line:
                    return -1
                return 20 + self._cpu_affinity(extra)
            if lt == MODULES:
                return -1 if self.modules else 10
            if lt == REGS:
                # show_regs() prints the CPU line first
                return 10 + self._reg_affinity(extra) if self.has_cpu_line else -1
            if lt not in _STRUCTURAL and fmt.body is not None and fmt.body.match(text):
                return 5 if fmt.body is ANY else 20
            if lt == TEXT and fmt.message_after_header and len(self.lines) == 1:
                return 1 if _in_order(self.last_ts, line.ts) else -1
            if lt == INFO:
                return 5
            if lt in (FRAME, MARKER) and fmt.trace:
                return 2
            if lt == END and fmt.end is not None and fmt.end.match(text):
                return 1
            return -1
        if st == TRACE:
            if lt == FRAME:
                return 10
            if lt == MARKER:
                return self._marker_affinity(extra)
            if lt == REGS:
                return 8 + self._reg_affinity(extra)
            if lt in (END, SEP) and fmt.end is not None and fmt.end.match(text):
                return 10
            if fmt.tail is not None and lt == TEXT and fmt.tail.match(text):
                return 5 if fmt.tail is not ANY else 2
            if lt == INFO:
                return 1
            return -1
        if st == AFTER:
            if lt in (END, SEP) and fmt.end is not None and fmt.end.match(text):
                return 10
            if fmt.tail is not None and fmt.tail.match(text):
                if lt == CPULINE:
                    return 8 + self._cpu_affinity(extra)
                return 8 if fmt.tail is not ANY else 2
            if lt == MODULES:
                return 3 if self.modules else 10
            if lt == REGS:
                return 5 + self._reg_affinity(extra)
            if lt == INFO:
                return 3
            return -1
        # SUMMARY: the registers printed again after an oops' end line
        return 20 + self._reg_affinity(extra) if lt == REGS else -1

    def _cpu_affinity(self, m: re.Match[str]) -> int:
        score = 0
        for key in ("cpu", "pid"):
            mine, theirs = self.fields.get(key), m.groupdict().get(key)
            if mine is not None and theirs is not None:
                score += 30 if mine == theirs else -15
        return score

    def _reg_affinity(self, key: str) -> int:
        if self.last_reg is None:
            return 10 if key == "RIP" else 0
        a, b = _REG_ORDER.get(self.last_reg), _REG_ORDER.get(key)
        return 20 if a is not None and b is not None and b == a + 1 else 0

    def _marker_affinity(self, m: re.Match[str]) -> int:
        name = m.group("name")
        if m.group("close"):
            return 30 if self.contexts and self.contexts[-1] == name else -1
        return 10 if not self.contexts else -1

    # -- taking a line -----------------------------------------------------------
    def add(self, lt: int, line: _Line, extra: Any) -> None:
        self.lines.append(line)
        self.idle = 0
        if line.ts is not None:
            self.last_ts = line.ts
        text, fmt = line.text, self.fmt
        in_body = (
            self.state == PREAMBLE
            and fmt.body is not None
            and lt not in _STRUCTURAL
            and fmt.body.match(text) is not None
        )
        for rx in fmt.fields:
            m = rx.match(text)
            if m:
                for k, v in m.groupdict().items():
                    if v is not None:
                        self.fields.setdefault(k, v)
        if lt == TEXT and self.last_type == MODULES and _MODULE_CONT.match(text):
            self._add_modules(text)
            return  # keep last_type: module lists can take several lines
        self.last_type = lt
        if in_body:
            self.body.append(text)
            if self.message is None and lt == TEXT and text.strip() and fmt.body_message:
                self.message = text.strip()
            self._release_from(text)
            return
        if (
            lt == TEXT
            and self.state == PREAMBLE
            and fmt.message_after_header
            and len(self.lines) == 2
        ):
            self.message = self.message or text.strip()
            return
        if self.state in (AFTER, TRACE) and fmt.tail is ANY and lt not in (END, SEP, CALLTRACE):
            return  # KASAN's allocation stacks and memory dump: kept in raw only
        if lt == CPULINE:
            self.has_cpu_line = True
            for key in ("cpu", "pid", "comm", "release"):
                v = extra.groupdict().get(key)
                if v is not None:
                    self.fields.setdefault(key, v.strip() if key == "comm" else v)
            self.fields.setdefault("taint", _taint(extra.group("taint")))
        elif lt == MODULES:
            self._add_modules(extra.group("mods"))
        elif lt == CALLTRACE:
            self.state = TRACE
            self.contexts = []
        elif lt == MARKER:
            self._marker(extra, line)
        elif lt == FRAME:
            if self.state in (PREAMBLE, AFTER):
                self.state = TRACE
            self._frame(extra, line)
        elif lt == REGS:
            self._regs(extra, text)
        elif lt in (END, SEP) and fmt.end is not None and fmt.end.match(text):
            self.ended = True
            if self.state == TRACE and self.frames:
                self.trace_done = True
            self.state = SUMMARY if fmt.summary else AFTER
        self._release_from(text)

    def _release_from(self, text: str) -> None:
        if "release" in self.fields:
            return
        m = _RELEASE.match(text)
        if m:
            self.fields["release"] = m.group("release") or m.group("release2")
            self.fields.setdefault("taint", _taint(m.group("taint") or m.group("taint2")))

    def _add_modules(self, text: str) -> None:
        for token in text.split():
            m = _MODULE_NAME.match(token)
            if m:
                self.modules.append(m.group("name"))

    def _marker(self, m: re.Match[str], line: _Line) -> None:
        name = m.group("name")
        if self.state != TRACE:
            self.state = TRACE
        if m.group("close"):
            if self.contexts and self.contexts[-1] == name:
                self.contexts.pop()
            if name == "TASK" and not self.contexts:
                self.trace_done = True
                self.state = AFTER
        elif name not in ("EOI", "EOE"):
            self.contexts = [name]
        rest = m.group("rest")
        if rest:
            fm = _FRAME.match(rest) or _INLINE_FRAME.match(rest) or _ADDR_FRAME.match(rest)
            if fm:
                self._frame(fm, line)

    def _frame(self, m: re.Match[str], line: _Line) -> None:
        gd = m.groupdict()
        func = gd.get("func")
        self.frames.append(
            Frame(
                function=func,
                offset=int(gd["off"], 16) if gd.get("off") else None,
                size=int(gd["size"], 16) if gd.get("size") else None,
                module=gd.get("mod"),
                context=self.contexts[-1] if self.contexts else "",
                reliable=not gd.get("q"),
                source=gd.get("src"),
                inline=bool(gd.get("inline")) or (gd.get("off") is None and func is not None),
                line=line.text,
            )
        )

    def _regs(self, key: str, text: str) -> None:
        self.last_reg = key
        if key in ("RIP", "EIP") and self.rip is None and not self.contexts:
            self.rip = text.split(":", 1)[1].strip()
            m = _RIP_FUNC.match(text)
            if m:
                self.fields.setdefault("rip_function", m.group("function"))
                if m.group("module"):
                    self.fields.setdefault("rip_module", m.group("module"))
        # Before </TASK> markers (Linux < 5.17 x86) a trace ends with its Code: line.
        if key == "Code" and self.state == TRACE and not self.contexts and self.frames:
            self.trace_done = True
            self.state = AFTER

    # -- the result ---------------------------------------------------------------
    @property
    def complete(self) -> bool:
        if self.ended:
            return True
        if self.state == TRACE and (self.contexts or not self.trace_done):
            return False
        if self.fmt.complete == "end":
            return False
        if self.fmt.complete == "trace" and self.fmt.trace:
            return self.trace_done
        return True

    def build(self, expected: Sequence[Expected]) -> KernelReport:
        fmt = self.fmt
        kind, titles, guilty, skip = fmt.kind, fmt.titles, fmt.guilty, fmt.skip
        location = self.fields.get("location")
        for ref in REFINEMENTS:
            if kind not in ref.kinds:
                continue
            if (
                (ref.message and self.message and ref.message.search(self.message))
                or (ref.location and location and ref.location.search(location))
                or (ref.absorbed and ref.absorbed in self.absorbed)
            ):
                kind, titles, guilty, skip = ref.kind, ref.titles, ref.guilty, ref.skip
                break
        function, module = self._guilty(guilty, skip)
        values = dict(self.fields)
        values.update(function=function or "", location=location or "", message=self.message or "")
        title = next(
            (t.format(**values) for t in titles if all(values.get(k) for k in _keys(t))),
            fmt.kind,
        )
        times = [ln.ts for ln in self.lines if ln.ts is not None]
        report = KernelReport(
            kind=kind,
            title=title,
            header=self.header,
            location=location,
            function=function,
            module=module,
            cpu=int(self.fields["cpu"]) if "cpu" in self.fields else None,
            pid=int(self.fields["pid"]) if "pid" in self.fields else None,
            comm=self.fields.get("comm"),
            taint=self.fields.get("taint"),
            release=self.fields.get("release"),
            rip=self.rip,
            message=self.message,
            frames=tuple(self.frames),
            modules=tuple(dict.fromkeys(self.modules)),
            raw="\n".join(ln.raw for ln in self.lines),
            start_line=self.lines[0].no,
            end_line=self.lines[-1].no,
            start_time=times[0] if times else None,
            end_time=times[-1] if times else None,
            truncated=not self.complete,
        )
        report = replace(report, tf_leak=is_tf_leak(report))
        for exp in expected:
            if exp.matches(report):
                return replace(report, expected=True, expected_because=exp.why or exp.pattern)
        return report

    def _guilty(
        self, sources: tuple[str, ...], skip: re.Pattern[str] | None
    ) -> tuple[str | None, str | None]:
        """The guilty function and its module, from the first source that has one."""

        def ok(name: str | None) -> bool:
            plain = _plain(name)
            return (
                bool(plain)
                and not NEVER_GUILTY.match(plain or "")
                and not (skip and skip.match(plain or ""))
            )

        for source in sources:
            if source == "header" and self.fields.get("function"):
                return _plain(self.fields["function"]), self.fields.get("module")
            if source == "body" and self.fmt.function_re is not None:
                for text in self.body:
                    m = self.fmt.function_re.search(text)
                    if m:
                        return _plain(m.group("function")), None
            if source == "rip" and ok(self.fields.get("rip_function")):
                return _plain(self.fields["rip_function"]), self.fields.get("rip_module")
            if source == "frames":
                for f in self.frames:
                    if f.reliable and f.context not in ("IRQ", "NMI", "SOFTIRQ") and ok(f.function):
                        return _plain(f.function), f.module
        return None, None


def _in_order(before: float | None, after: float | None) -> bool:
    """Could a line stamped ``after`` follow one stamped ``before`` on the same CPU?"""
    return before is None or after is None or after >= before


def _keys(template: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", template)


# -- the parser ---------------------------------------------------------------------


class ConsoleParser:
    """Streaming console reader: ``feed()`` text as it arrives (any chunk
    size, partial lines fine), ``close()`` at the end; finished reports
    appear in :attr:`reports` as soon as they end.

    expected: messages declared expected (see :class:`Expected`)."""

    def __init__(self, expected: Sequence[Expected] = ()) -> None:
        self.expected = tuple(expected)
        self.reports: list[KernelReport] = []
        self._partial = ""
        self._no = 0
        self._open: list[_Open] = []
        self._lingering: list[tuple[int, _Open]] = []
        self._cut: list[_Line] | None = None
        self._closed = False

    def feed(self, text: str) -> list[KernelReport]:
        """Read more console text; return the reports that ended in it."""
        if self._closed:
            raise ValueError("feed() after close()")
        before = len(self.reports)
        data = self._partial + text
        lines = data.split("\n")
        self._partial = lines.pop()
        for raw in lines:
            self._line(raw[:-1] if raw.endswith("\r") else raw)
        return self.reports[before:]

    def close(self) -> list[KernelReport]:
        """End of the console: flush, report open splats (truncated unless
        complete), and return every report in console order."""
        if not self._closed:
            if self._partial:
                raw = self._partial
                self._partial = ""
                self._line(raw[:-1] if raw.endswith("\r") else raw)
            for rep in list(self._open):
                self._finish(rep)
            for _, rep in self._lingering:
                self.reports.append(rep.build(self.expected))
            self._lingering = []
            self._closed = True
            self.reports.sort(key=lambda r: r.start_line)
        return self.reports

    # -- one line ----------------------------------------------------------------
    def _line(self, raw: str) -> None:
        self._no += 1
        line = _clean(self._no, raw)
        self._expire_lingering()
        if not self._open and self._cut is None and not self._lingering:
            # Fast path: outside any report only a header or a cut line matters.
            text = line.text
            if not (_HEADER_ANY.match(text) or text.startswith("-")):
                return
        lt, extra = _classify(line.text)
        if lt == RESET:
            for rep in list(self._open):
                self._finish(rep)
            self._flush_lingering()
            self._cut = None
            return
        if lt == HEADER:
            self._header(line, *extra)
            return
        if lt == CUT:
            self._cut = [line]
            return
        best, best_key = None, (-1, 0.0, 0)
        for rep in self._open:
            s = rep.score(lt, line, extra)
            if s < 0:
                continue
            # Ties go to the report whose last timestamp this line continues
            # (each CPU prints in time order), then to the most recent one.
            near = 0.0
            if line.ts is not None and rep.last_ts is not None:
                near = -abs(line.ts - rep.last_ts)
            key = (s, near, -rep.idle)
            if key > best_key:
                best, best_key = rep, key
        if best is None:
            best = self._reopen(lt, line, extra)
        if best is not None:
            best.add(lt, line, extra)
            if (best.ended and best.state != SUMMARY) or (
                best.state == AFTER and best.fmt.end is None and best.fmt.tail is None
            ):
                self._finish(best)  # nothing more can belong to it
        elif (
            lt == TEXT
            and self._cut is not None
            and len(self._cut) < 4
            and line.text.strip()
            and _in_order(self._cut[-1].ts, line.ts)
        ):
            self._cut.append(line)  # a WARN message between "cut here" and its header
        for rep in list(self._open):
            if rep is best:
                continue
            rep.idle += 1
            if self._foreign_ends(rep, lt):
                self._finish(rep, linger=rep.state == AFTER)
            elif rep.idle > IDLE_LIMIT:
                self._finish(rep)

    def _foreign_ends(self, rep: _Open, lt: int) -> bool:
        """Does a line that is not this report's end it?"""
        if rep.state == SUMMARY or (not rep.fmt.trace and rep.state == PREAMBLE):
            return True
        if rep.state == AFTER and rep.fmt.end is None:
            return True
        if rep.state == TRACE and not rep.contexts and rep.frames and lt == TEXT:
            # An old-style trace (no <TASK> markers) ends at the first text line.
            rep.trace_done = True
            rep.state = AFTER
            return rep.fmt.end is None
        return False

    def _header(self, line: _Line, fmt: ReportFormat, match: re.Match[str]) -> None:
        for rep in reversed(self._open):
            if rep.state == PREAMBLE and fmt.kind in rep.fmt.absorbs and rep.idle <= 8:
                loc = match.groupdict().get("location")
                if fmt.kind == rep.fmt.kind and (
                    len(rep.lines) > 1 or loc != rep.fields.get("location")
                ):
                    continue  # another WARNING, not syzkaller's [inline] twin of this one
                rep.lines.append(line)
                rep.idle = 0
                rep.absorbed.append(fmt.kind)
                if fmt.kind == "HARD_LOCKUP":
                    rep.message = rep.message or line.text
                for k, v in match.groupdict().items():
                    if v is not None:
                        rep.fields.setdefault(k, v)
                self._age_others(rep)
                return
        rep = _Open(fmt, line, match)
        cut = self._cut
        if cut is not None and line.no - cut[0].no <= 5 and _in_order(cut[-1].ts, line.ts):
            rep.lines.extend(cut)
            if len(cut) > 1 and rep.message is None:
                rep.message = " ".join(c.text.strip() for c in cut[1:])
        self._cut = None
        rep.lines.append(line)
        self._age_others(rep)
        self._open.append(rep)

    def _age_others(self, current: _Open) -> None:
        for rep in list(self._open):
            if rep is current:
                continue
            rep.idle += 1
            if (
                rep.state == SUMMARY
                or (rep.state == AFTER and rep.fmt.end is None)
                or (not rep.fmt.trace and rep.state == PREAMBLE)
            ):
                self._finish(rep)

    def _reopen(self, lt: int, line: _Line, extra: Any) -> _Open | None:
        """A line with nowhere to go: give it back to a report that a foreign
        line (another CPU's) closed a moment ago, if it fits there."""
        for i in range(len(self._lingering) - 1, -1, -1):
            _, rep = self._lingering[i]
            fits = rep.score(lt, line, extra) >= 0
            if not fits and lt in (FRAME, MARKER):
                rep.state = TRACE
                fits = rep.score(lt, line, extra) >= 0
                if not fits:
                    rep.state = AFTER
            if fits:
                del self._lingering[i]
                self._open.append(rep)
                return rep
        return None

    def _finish(self, rep: _Open, linger: bool = False) -> None:
        self._open.remove(rep)
        if linger and rep.fmt.trace:
            self._lingering.append((self._no + LINGER, rep))
        else:
            self.reports.append(rep.build(self.expected))

    def _expire_lingering(self) -> None:
        while self._lingering and self._lingering[0][0] < self._no:
            _, rep = self._lingering.pop(0)
            self.reports.append(rep.build(self.expected))

    def _flush_lingering(self) -> None:
        for _, rep in self._lingering:
            self.reports.append(rep.build(self.expected))
        self._lingering = []


# -- entry points ----------------------------------------------------------------------

CHUNK = 1 << 20


def parse_text(text: str, expected: Sequence[Expected] = ()) -> list[KernelReport]:
    """Every report in a console text, in console order."""
    parser = ConsoleParser(expected)
    parser.feed(text)
    return parser.close()


def parse_stream(binary: BinaryIO, expected: Sequence[Expected] = ()) -> list[KernelReport]:
    """Every report in a binary stream (a file, stdin), read in chunks."""
    parser = ConsoleParser(expected)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        chunk = binary.read(CHUNK)
        if not chunk:
            break
        parser.feed(decoder.decode(chunk))
    parser.feed(decoder.decode(b"", final=True))
    return parser.close()


def parse_file(path: Path | str, expected: Sequence[Expected] = ()) -> list[KernelReport]:
    """Every report in a saved console log (a serial capture, a CI artifact,
    ``dmesg`` output). InputError when the file cannot be read."""
    try:
        with open(path, "rb") as f:
            return parse_stream(f, expected)
    except OSError as err:
        raise InputError(f"cannot read the console log {path}: {err.strerror or err}") from None


class _HasConsole(Protocol):
    @property
    def console(self) -> Any: ...


def reports_of_guest(guest: _HasConsole, expected: Sequence[Expected] = ()) -> list[KernelReport]:
    """What a running (or finished) guest's console has said so far.

    Reads the complete console log (``guest.console.text()``); a splat still
    being printed comes back ``truncated``. ``expected``: messages the
    scenario caused on purpose (e.g. :data:`NMI_AFTER_INJECTION`)."""
    return parse_text(guest.console.text(), expected)


# -- guestdbg kernlog ---------------------------------------------------------------------


def describe(report: KernelReport, max_frames: int = 16) -> str:
    """A report as a few readable lines."""
    flags = [
        name
        for name, on in (
            ("TF leak", report.tf_leak),
            ("truncated", report.truncated),
            ("expected", report.expected),
        )
        if on
    ]
    out = [report.title + (f"  [{', '.join(flags)}]" if flags else "")]
    facts = [f"kind {report.kind}"]
    if report.cpu is not None:
        facts.append(f"cpu {report.cpu}")
    if report.pid is not None:
        facts.append(f"pid {report.pid}" + (f" ({report.comm})" if report.comm else ""))
    if report.taint:
        facts.append(f"tainted {report.taint}")
    if report.release:
        facts.append(report.release)
    if report.start_time is not None and report.end_time is not None:
        facts.append(f"console {report.start_time:.6f}-{report.end_time:.6f} s")
    out.append("  " + ", ".join(facts))
    where = []
    if report.location:
        where.append(f"at {report.location}")
    if report.function:
        where.append(f"in {report.function}")
    if where:
        out.append("  " + " ".join(where))
    if report.message and report.message not in report.title:
        out.append(f"  message: {report.message}")
    if report.expected_because:
        out.append(f"  expected: {report.expected_because}")
    if report.rip:
        out.append(f"  RIP: {report.rip}")
    if report.modules:
        out.append(f"  modules: {' '.join(report.modules)}")
    frames = [f for f in report.frames if f.reliable]
    if frames:
        out.append("  call trace:")
        for f in frames[:max_frames]:
            ctx = f"<{f.context}> " if f.context else ""
            out.append(f"    {ctx}{f}")
        if len(frames) > max_frames:
            out.append(f"    ... {len(frames) - max_frames} more")
    return "\n".join(out)


def command(
    files: Sequence[Path],
    as_json: bool = False,
    expected: Sequence[Expected] = (),
    out: Any = None,
) -> int:
    """``guestdbg kernlog FILE... [--json]``: the reports in saved console
    logs (``-`` is stdin). Exit status 0 when there is no finding, 1 when
    there are."""
    out = out or sys.stdout
    results: list[tuple[str, KernelReport]] = []
    for path in files:
        name = str(path)
        if name == "-":
            reports = parse_stream(sys.stdin.buffer, expected)
            name = "<stdin>"
        else:
            if not Path(path).is_file():
                raise InputError(f"no console log at {path}")
            reports = parse_file(path, expected)
        results += [(name, r) for r in reports]
    if as_json:
        items = [{"file": name, **r.to_json()} for name, r in results]
        out.write(json.dumps(items, indent=2) + "\n")
    else:
        for name, r in results:
            out.write(f"{name}:{r.start_line}: {describe(r)}\n\n")
        found = findings(r for _, r in results)
        leaks = sum(1 for _, r in results if r.tf_leak)
        where = f"{len(files)} file{'s' if len(files) != 1 else ''}"
        if results:
            out.write(
                f"guestdbg kernlog: {len(results)} report(s) in {where}, "
                f"{len(found)} finding(s), {leaks} TF leak(s)\n"
            )
        else:
            out.write(f"guestdbg kernlog: no kernel reports in {where}\n")
    return 1 if findings(r for _, r in results) else 0


__all__ = [
    "FORMATS",
    "NMI_AFTER_INJECTION",
    "REFINEMENTS",
    "ConsoleParser",
    "Expected",
    "Frame",
    "KernelReport",
    "ReportFormat",
    "command",
    "describe",
    "findings",
    "is_tf_leak",
    "parse_file",
    "parse_stream",
    "parse_text",
    "reports_of_guest",
]
