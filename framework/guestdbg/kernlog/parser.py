"""The streaming console parser: lines in, :class:`KernelReport` out.

Feed console text to a :class:`ConsoleParser` (chunks of any size, as it
streams) or use :func:`parse_text` / :func:`parse_file` / :func:`parse_stream`.

How it reads, in short:

* Every line is cleaned and classified (:mod:`guestdbg.kernlog.lines`). A
  line holding a report header (:data:`~guestdbg.kernlog.formats.FORMATS`),
  wherever in the line it starts, opens a report.
* Several reports can be open at once; each line goes to the open report
  that accepts it best, per :data:`ROUTES` (which line types a report takes
  in which state, and how much caller id, CPU number, register order and the
  context-marker stack add), then the report whose printk timestamps the line
  continues, then the most recent one. That is how two CPUs' interleaved
  output is told apart; a line with a ``[ T123]``/``[ C1]`` caller id only
  goes to a report of the same caller.
* A report ends at its end marker (``---[ end trace``, KASAN's closing
  ``=====``), when its call trace is over, at a reset (a new boot) or at
  :meth:`ConsoleParser.close`. One that ends early is ``truncated``; one
  whose span holds lines it could not tell apart from its own (another
  CPU's, without caller ids) is ``corrupted``. A ``Kernel panic`` that
  follows a report (panic_on_warn, ``Fatal exception``) is part of it.
* Work per line is constant: parsing is linear in the size of the console.
"""

from __future__ import annotations

import codecs
import enum
import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from guestdbg.errors import InputError
from guestdbg.kernlog.formats import (
    ANY,
    FORMATS,
    HEADER_HINT,
    REFINEMENTS,
    ReportFormat,
    Title,
    sanitize,
)
from guestdbg.kernlog.guilty import (
    INTERRUPT_CONTEXTS,
    Entry,
    Evidence,
    guilty,
    header_function,
)
from guestdbg.kernlog.lines import (
    CPU_RE,
    FRAME_RE,
    MODULE_CONT_RE,
    MODULE_NAME_RE,
    RELEASE_RE,
    RESET_RE,
    RIP_FUNC,
    Line,
    LineType,
    classify_rest,
    clean,
)
from guestdbg.kernlog.reports import Expected, Frame, KernelReport, is_tf_leak
from guestdbg.kernlog.skips import SKIP_ALWAYS, plain, strip_syscall_prefix

__all__ = [
    "ROUTES",
    "ConsoleParser",
    "State",
    "parse_file",
    "parse_stream",
    "parse_text",
    "reports_of_guest",
]

L = LineType


class State(enum.Enum):
    PREAMBLE = "preamble"  # header to call trace: CPU line, registers, body text
    TRACE = "trace"  # in a call trace
    AFTER = "after"  # the trace is over; waiting for an end line or tail lines
    SUMMARY = "summary"  # after an oops' end line: its registers printed again


S = State


@dataclass(frozen=True)
class Route:
    """How a report in some state takes a line of some type: a base score,
    plus what ``check`` (a method of :class:`_Open`, called with the report,
    the line and what classifying it found) adds; None rejects."""

    base: int
    check: Callable[[_Open, Line, Any], int | None] | None = None


_STRUCTURAL = frozenset({L.CALLTRACE, L.CPULINE, L.MODULES, L.REGS, L.END, L.SEP})
_REG_ORDER = {
    k: i
    for i, k in enumerate(
        ["RIP", "Code", "RSP", "RAX", "RDX", "RBP", "R10", "R13", "FS", "CS", "CR2", "DR0", "DR3"]
    )
}
# A section whose call trace follows it but is another task's: rcu_check_gp_kthread_starvation()
# (kernel/rcu/tree_stall.h) dumps the starved grace-period kthread's stack.
# kernel/rcu/tree_stall.h rcu_check_gp_kthread_starvation(); "rcu: " is its pr_fmt since 4.20
_ASIDE = ("RCU grace-period kthread stack dump", "rcu: RCU grace-period kthread stack dump")
IDLE_LIMIT = 60  # lines a report waiting for its end marker may go without one of its own
LINGER = 8  # lines during which a report closed by a foreign line may take frames again
PANIC_WINDOW = 12  # lines after a report during which a panic is still part of it
SPAN_MEMORY = 4096  # lines remembered to judge what lay inside a report's span


def _in_order(before: float | None, after: float | None) -> bool:
    """Could a line stamped ``after`` follow one stamped ``before`` on the same CPU?"""
    return before is None or after is None or after >= before


def _taint(flags: str | None) -> str:
    return "".join(c for c in (flags or "") if c.isalpha() and c != "G")


# What may be glued before a header: the end of a timestamp (text printed
# over the line's start), a login prompt, a printk-dropped notice, a subsystem tag.
_GLUE = re.compile(r"(?:\]\s?|login:\s|\*\*\s|watchdog:\s|rcu:\s|kmemleak:\s)$")
# A pr_fmt() prefix: the line is one subsystem word, a colon, then the header
# ("IPv6: BUG: Address ... is missing its host route", net/ipv6/addrconf.c).
_PR_FMT = re.compile(r"[A-Za-z][\w/.-]*: $")


def find_header(text: str) -> tuple[ReportFormat, re.Match[str]] | None:
    """The report header in a line, at its start or glued after other output."""
    for hint in HEADER_HINT.finditer(text):
        pos = hint.start()
        if pos and not _GLUE.search(text, 0, pos) and not _PR_FMT.fullmatch(text, 0, pos):
            continue
        for fmt in FORMATS:
            m = fmt.header.match(text, pos)
            if m:
                return fmt, m
    return None


# The bottom of a task's stack: the syscall, exception or thread entry code
# (x86 entry_64.S/entry_32.S across 3.x-6.x, arm64 entry.S, arm, riscv) or
# the idle/boot path. A trace that ends there ended, whatever follows.
_TRACE_BOTTOM = re.compile(
    r"^(?:entry_SYSCALL_64(?:_after_hwframe|_fastpath)?|entry_SYSCALL_compat|"
    r"entry_SYSENTER_(?:compat|32)|entry_INT80_(?:compat|32)|int_ret_from_sys_call|"
    r"entry_(?:SYSCALL|SYSENTER|INT80)_compat_after_hwframe|sysenter_flags_fixed|"
    r"system_call_fastpath|tracesys(?:_phase2)?|sysenter_dispatch|ret_from_fork(?:_asm)?|"
    r"ret_from_kernel_thread|el0t_(?:64|32)_sync|el0_sync(?:_compat)?|ret_fast_syscall|"
    r"ret_from_exception|handle_exception|secondary_startup_64(?:_no_verify)?|"
    r"x86_64_start_(?:kernel|reservations)|start_secondary|common_startup_64)$"
)
# x86 show_regs() of the syscall entry frame: user-mode CS (64-bit or compat).
_USER_RIP = re.compile(r"^RIP: 00[23]3:")
# The last lines kernel/panic.c prints: the panic is over, the kernel stops
# ("Kernel Offset:" from the x86 panic notifier, "Rebooting in N seconds..",
# "---[ end Kernel panic - not syncing: ... ]---" since 4.9).
_PANIC_DONE = re.compile(r"^(?:Kernel Offset: |Rebooting in \d+ seconds|---\[ end Kernel panic)")


class _Trace:
    """The trace collector: a report's call traces as it reads them -- its
    frames, the candidates for the guilty frame (frames and RIP lines), the
    context markers it is inside, which stack the frames belong to (its own, a
    secondary one under a section line, a panic's) -- and the reading state."""

    def __init__(self) -> None:
        self.state = S.PREAMBLE
        self.frames: list[Frame] = []
        self.entries: list[Entry] = []
        self.contexts: list[str] = []
        self.rip: str | None = None  # the first RIP line's value
        self.traces = 0  # call traces started (the first is the report's own)
        self.section = False  # frames now belong to a secondary stack
        self.section_line: str | None = None  # the section line they are under
        self.interrupted = False  # past the interrupt that printed the report
        self.trace_done = False
        self.frozen = False  # a panic cut in: later frames are the panic's
        self.aside = False  # the next call trace is printed aside (not the report's)
        self.code_ended = False  # a Code: line ended the trace (frames may go on)
        self.text_ended = False  # a foreign text line ended an old-style trace
        self.last_reg: str | None = None

    def secondary(self) -> None:
        """Frames from here on belong to another stack than the report's own."""
        self.section = True
        self.section_line = None

    def section_at(self, text: str) -> None:
        """A section line: the stack under it is a secondary one."""
        self.section = True
        self.section_line = text
        self.aside = text.startswith(_ASIDE)

    def call_trace(self) -> None:
        """A "Call Trace:" line: a trace starts (the report's own if it is the first)."""
        if self.aside:
            # the stack printed aside (the RCU grace-period kthread's) is not the report's
            self.aside = False
            self.secondary()
        else:
            self.traces += 1
            self.section = self.traces > 1 or self.frozen
            self.section_line = None
        self.state = S.TRACE
        self.contexts = []
        self.interrupted = False

    def frame_line(self, m: re.Match[str], line: Line) -> None:
        """A frame outside the body: it starts or resumes a trace."""
        if self.state in (S.PREAMBLE, S.AFTER):
            if self.state == S.AFTER and (self.code_ended or self.text_ended):
                self.trace_done = False
                self.code_ended = self.text_ended = False
            self.state = S.TRACE
            if self.traces == 0:
                self.traces = 1
        self.frame(m, line)

    def end_line(self, state: State) -> None:
        """The report's end line: its trace, if reading one, is over."""
        if self.state == S.TRACE and self.frames:
            self.trace_done = True
        self.state = state

    def freeze(self) -> None:
        """A panic cut in: what follows is the panic's stack, not the report's."""
        self.frozen = True
        self.secondary()
        if self.state == S.SUMMARY:
            self.state = S.AFTER

    def end_by_text(self) -> None:
        """An old-style trace (no <TASK> markers) ends at the first text line
        ... unless frames go on right after it (another task's message
        printed into the trace, "used greatest stack depth")."""
        self.trace_done = True
        self.state = S.AFTER
        self.text_ended = True

    def ends_here(self) -> None:
        """The trace is over if it is between frames outside any context."""
        if self.state == S.TRACE and self.frames and not self.contexts:
            self.trace_done = True

    def marker(self, m: re.Match[str], line: Line) -> None:
        """A context marker (<IRQ>, </TASK>, <EOI>...), with the frame it may hold."""
        name = m.group("name")
        if self.state != S.TRACE:
            self.state = S.TRACE
        if m.group("close"):
            if self.contexts and self.contexts[-1] == name:
                self.contexts.pop()
            if name in INTERRUPT_CONTEXTS:
                self.interrupted = True
            if name == "TASK" and not self.contexts:
                self.trace_done = True
                self.state = S.AFTER
        elif name in ("EOI", "EOE"):
            if self.contexts and self.contexts[-1] in INTERRUPT_CONTEXTS:
                self.contexts.pop()
            self.interrupted = True
        else:
            self.contexts = [name]
        rest = m.group("rest")
        if rest:
            fm = FRAME_RE.match(rest)
            if fm:
                self.frame(fm, line)

    def frame(self, m: re.Match[str], line: Line) -> None:
        """A frame, and the candidate it makes when it names a reliable function."""
        gd = m.groupdict()
        func = gd.get("func")
        reliable = not gd.get("q")
        context = self.contexts[-1] if self.contexts else ""
        frame = Frame(
            function=func,
            offset=int(gd["off"], 16) if gd.get("off") else None,
            size=int(gd["size"], 16) if gd.get("size") else None,
            module=gd.get("mod"),
            context=context,
            reliable=reliable,
            source=gd.get("src"),
            inline=bool(gd.get("inline"))
            or (gd.get("off") is None and func is not None and not gd.get("decoded")),
            line=line.text,
        )
        self.frames.append(frame)
        if self.entries and self.entries[-1].caller and self.entries[-1].function == func:
            self.entries.pop()  # the arm line repeats the caller the line before named
        # A symbolizer's "[inline]" frame (syzbot's, "f file.c:12 [inline]") is a callee
        # inlined into the next frame, not a frame of its own: syzkaller's frame regex
        # ({{FUNC}}: a name followed by "+" or ".") passes it over, and the report names
        # what it would name unsymbolized.
        if func and reliable and not gd.get("inline"):
            self.entries.append(
                Entry(
                    func,
                    frame.module,
                    context,
                    rip=False,
                    main=not self.section and not self.frozen,
                    after_interrupt=self.interrupted,
                    preamble=self.state == S.PREAMBLE,
                    section=self.section_line if self.section else None,
                )
            )
            caller = gd.get("caller")
            if caller and not gd.get("caller_inline"):
                self.entries.append(
                    replace(self.entries[-1], function=caller, module=None, caller=True)
                )

    def regs(self, key: str, text: str) -> None:
        """A register line: the RIP line is a candidate; Code: or a user RIP may end the trace."""
        self.last_reg = key
        m = RIP_FUNC.match(text)
        if key in ("RIP", "EIP", "IP", "pc", "PC") and self.rip is None and m:
            self.rip = text.split(":", 1)[1].strip() if ":" in text else text
        if m and not self.section and not self.frozen:
            context = self.contexts[-1] if self.contexts else ""
            if key in ("RIP", "EIP", "IP", "pc", "PC", "epc", "NIP", "--- interrupt"):
                self.entries.append(
                    Entry(
                        m.group("function"),
                        m.group("module") or m.group("decoded_module"),
                        context,
                        rip=True,
                        main=True,
                        after_interrupt=self.interrupted,
                    )
                )
        # Before </TASK> markers (Linux < 5.17 x86) a trace ends with its Code: line,
        # or (before 4.19, no Code: line there) with the user-mode registers of
        # the syscall entry frame: RIP: 0033: (0023: for 32-bit tasks).
        if key == "Code" and self.state == S.TRACE and not self.contexts and self.frames:
            self.trace_done = True
            self.state = S.AFTER
            # ... unless frames follow its register block (4.x prints the
            # interrupted registers inside the trace: Code: then RSP..R15)
            self.code_ended = True
        elif (
            key == "RIP"
            and self.state == S.TRACE
            and not self.contexts
            and self.frames
            and _USER_RIP.match(text)
        ):
            self.trace_done = True


class _Panic:
    """The panic tracker: a Kernel panic a report printed (panic_on_warn, Fatal
    exception), whether it cut the report's own trace short, and whether it
    printed its last lines."""

    def __init__(self) -> None:
        self.cut_short = False
        self.done = False  # the panic it absorbed printed its last lines

    def absorb(self, trace: _Trace) -> None:
        if trace.state == S.TRACE and not trace.trace_done:
            self.cut_short = True  # the panic cut the report's own trace short
        if trace.state != S.PREAMBLE:
            trace.freeze()

    def last_line(self, text: str, trace: _Trace) -> None:
        if _PANIC_DONE.match(text):
            self.done = True
            trace.ends_here()


# What follows an inlined callee's name in a symbolized line: its location, "[inline]"
_INLINED = re.compile(r"\s+\S+:\d+\s+\[inline\]")


def _inline_prefix(match: re.Match[str]) -> str | None:
    """The header's text before the function it names, when a symbolizer marked
    that function as an inlined callee ("... in f file.c:12 [inline]")."""
    if match.groupdict().get("function") is None:
        return None
    if not _INLINED.match(match.string, match.end("function")):
        return None
    return match.string[match.start() : match.start("function")]


class _Open:
    """A report still being read: how well each line fits it (:data:`ROUTES`),
    its header's fields, body lines and modules; its stacks in a :class:`_Trace`,
    a panic it printed in a :class:`_Panic`; :meth:`build` titles it, with the
    guilty frame :func:`~guestdbg.kernlog.guilty.guilty` picks."""

    def __init__(self, fmt: ReportFormat, line: Line, match: re.Match[str]) -> None:
        self.fmt = fmt
        self.header = match.string[match.start() :]
        self.glued = match.start() > 0
        self.lines: list[Line] = []
        self.fields: dict[str, str] = {k: v for k, v in match.groupdict().items() if v is not None}
        self.modules: list[str] = []
        self.message: str | None = self.fields.get("message")
        self.absorbed: list[str] = []
        self.body: list[str] = []
        self.has_cpu_line = False
        self.ended = False
        self.at_eof = False  # still open when the console ended
        self.last_type = L.HEADER
        self.idle = 0
        self.caller = line.caller
        self.last_ts = line.ts
        self.trace = _Trace()
        self.panic = _Panic()
        # the header's text before its function while that function is an inlined
        # callee and nothing but header lines was read: the next header line may be its twin
        self.inline_prefix = _inline_prefix(match)

    # -- routing -----------------------------------------------------------------
    def score(self, lt: LineType, line: Line, extra: Any) -> int:
        """How well the line fits this report (<0: not at all)."""
        if self.caller is not None and line.caller is not None and line.caller != self.caller:
            return -1
        if (
            lt == L.TEXT
            and self.last_type == L.MODULES
            and self.trace.state in (S.PREAMBLE, S.AFTER)
            and MODULE_CONT_RE.match(line.text)
        ):
            return 40
        route = ROUTES.get((self.trace.state, lt))
        if route is None:
            return -1
        delta = 0
        if route.check is not None:
            got = route.check(self, line, extra)
            if got is None:
                return -1
            delta = got
        bonus = 100 if (self.caller is not None and line.caller == self.caller) else 0
        return route.base + delta + bonus

    # Each check returns what it adds to the route's base score, or None to reject.
    def _calltrace(self, line: Line, extra: Any) -> int | None:
        if _REG_ORDER.get(self.trace.last_reg or "", 99) < _REG_ORDER["CR2"]:
            return None  # its register dump is not over: the trace comes after it
        lead_in = self.last_type in (L.CPULINE, L.INFO, L.REGS) or bool(
            self.body and self.lines[-1].text is self.body[-1]
        )
        return (10 if self.has_cpu_line else 0) + (10 if lead_in else 0)

    def _cpuline(self, line: Line, m: re.Match[str]) -> int | None:
        return None if self.has_cpu_line else self._cpu_affinity(m)

    def _first_modules(self, line: Line, extra: Any) -> int | None:
        return None if self.modules else 0

    def _later_modules(self, line: Line, extra: Any) -> int | None:
        return 0 if self.modules else 7

    def _regs(self, line: Line, key: str) -> int | None:
        # show_regs() prints the CPU line first; old x86 and arm print IP:/pc first
        if (
            self.trace.state == S.PREAMBLE
            and not self.has_cpu_line
            and key not in ("IP", "RIP", "EIP", "pc", "PC")
        ):
            return None
        if self.trace.last_reg is None:
            return 10 if key in ("RIP", "IP", "pc", "PC") else 0
        a, b = _REG_ORDER.get(self.trace.last_reg), _REG_ORDER.get(key)
        return 20 if a is not None and b is not None and b == a + 1 else 0

    def _has_trace(self, line: Line, extra: Any) -> int | None:
        return 0 if self.fmt.trace else None

    def _own_end(self, line: Line, extra: Any) -> int | None:
        end = self.fmt.end
        return 0 if end is not None and end.match(line.text) else None

    def _own_end_or_body(self, line: Line, extra: Any) -> int | None:
        got = self._own_end(line, extra)
        return got if got is not None else self._body(line, extra)

    def _body(self, line: Line, extra: Any) -> int | None:
        fmt = self.fmt
        if fmt.body is not None and fmt.body.match(line.text):
            return 5 if fmt.body is ANY else 20
        if fmt.message_after_header and len(self.lines) == 1:
            return 1 if _in_order(self.last_ts, line.ts) else None
        return None

    def _blank(self, line: Line, extra: Any) -> int | None:
        return 0 if (self.fmt.body is ANY or self.fmt.tail is ANY) else None

    def _tail(self, line: Line, extra: Any) -> int | None:
        tail = self.fmt.tail
        if tail is None or not tail.match(line.text):
            return None
        return 2 if tail is ANY else 5

    def _frame_after(self, line: Line, extra: Any) -> int | None:
        # An oops of Linux < 5.x prints the interrupted registers inside its
        # trace: frames right after the Code: line go on with the same trace.
        if self.last_type == L.REGS and self.trace.code_ended and not self.trace.frozen:
            return 10
        if self.trace.text_ended and self.last_type == L.FRAME and not self.trace.frozen:
            return 5
        return self._tail(line, extra)

    def _tail_cpu(self, line: Line, m: re.Match[str]) -> int | None:
        got = self._tail(line, m)
        return None if got is None else max(0, got + self._cpu_affinity(m))

    def _marker(self, line: Line, m: re.Match[str]) -> int | None:
        name = m.group("name")
        if m.group("close"):
            return 30 if self.trace.contexts and self.trace.contexts[-1] == name else None
        if name in ("EOI", "EOE"):
            return (
                30 if self.trace.contexts and self.trace.contexts[-1] in INTERRUPT_CONTEXTS else 5
            )
        return 10 if not self.trace.contexts else None

    def _cpu_affinity(self, m: re.Match[str]) -> int:
        score = 0
        for key in ("cpu", "pid"):
            mine, theirs = self.fields.get(key), m.groupdict().get(key)
            if mine is not None and theirs is not None:
                score += 30 if mine == theirs else -15
        return score

    # -- taking a line -------------------------------------------------------------
    def add(self, lt: LineType, line: Line, extra: Any) -> None:
        self.lines.append(line)
        self.idle = 0
        self.inline_prefix = None
        if line.ts is not None:
            self.last_ts = line.ts
        text, fmt = line.text, self.fmt
        for rx in fmt.fields:
            m = rx.match(text)
            if m:
                for k, v in m.groupdict().items():
                    if v is not None:
                        self.fields.setdefault(k, v)
        if lt == L.TEXT and self.last_type == L.MODULES and MODULE_CONT_RE.match(text):
            self._add_modules(text)
            return  # keep last_type: module lists can take several lines
        self.last_type = lt
        if lt == L.INFO and text.startswith("Preemption disabled at:"):
            # the one frame under it is where preemption was disabled, not the
            # report's stack (testdata 642: kernel_fpu_begin_mask)
            self.trace.secondary()
        if (
            self.trace.state == S.PREAMBLE
            and fmt.body is not None
            and lt not in _STRUCTURAL
            and fmt.body.match(text)
        ):
            self.body.append(text)
            if self.message is None and lt == L.TEXT and text.strip() and fmt.body_message:
                self.message = text.strip()
            if lt == L.SECTION:
                self.trace.section_at(text)
            elif lt == L.FRAME:
                # a stack printed right under the header (KMSAN, KCSAN, KFENCE) is
                # the report's own; after a section line, a secondary one
                self.trace.frame(extra, line)
            self._release_from(text)
            return
        if lt == L.TEXT and self.trace.state == S.PREAMBLE and fmt.message_after_header:
            self.message = self.message or text.strip()
            return
        if lt == L.CPULINE:
            if not self.has_cpu_line:
                self.has_cpu_line = True
                for key in ("cpu", "pid", "comm", "release"):
                    v = extra.groupdict().get(key)
                    if v is not None:
                        self.fields.setdefault(key, v.strip() if key == "comm" else v)
                self.fields.setdefault("taint", _taint(extra.group("taint")))
        elif lt == L.MODULES:
            self._add_modules(extra.group("mods"))
        elif lt == L.CALLTRACE:
            self.trace.call_trace()
        elif lt == L.SECTION:
            self.trace.section_at(text)
        elif lt == L.MARKER:
            self.trace.marker(extra, line)
        elif lt == L.FRAME:
            self.trace.frame_line(extra, line)
        elif lt == L.REGS:
            self.trace.regs(extra, text)
        elif lt == L.INFO:
            if "PANIC" in self.absorbed:
                self.panic.last_line(text, self.trace)
        elif lt in (L.END, L.SEP) and fmt.end is not None and fmt.end.match(text):
            self.ended = True
            self.trace.end_line(S.SUMMARY if fmt.summary else S.AFTER)
        self._release_from(text)

    def takes_twin(self, fmt: ReportFormat, line: Line, match: re.Match[str]) -> bool:
        """Is this header line the twin a symbolizer printed after this report's
        header for the function its inlined callee is in? syzbot's symbolizer
        repeats a line per inlined frame ("BUG: KASAN: ... in f_inlined file.c:12
        [inline]", then "... in f+0x12/0x34 file.c:40"); syzkaller's title regex
        reads the first whose function is followed by "+" or ".": f."""
        if self.inline_prefix is None or fmt is not self.fmt or match.group("function") is None:
            return False
        if line.caller is not None and self.caller is not None and line.caller != self.caller:
            return False
        return match.string[match.start() : match.start("function")] == self.inline_prefix

    def take_twin(self, line: Line, match: re.Match[str]) -> None:
        self.lines.append(line)
        self.idle = 0
        groups = match.groupdict()
        for k, v in groups.items():
            if k in ("function", "module"):
                if v is None:
                    self.fields.pop(k, None)
                else:
                    self.fields[k] = v
            elif v is not None:
                self.fields.setdefault(k, v)
        self.inline_prefix = _inline_prefix(match)

    def absorb_panic(self, line: Line, match: re.Match[str]) -> None:
        """A Kernel panic printed by this report (panic_on_warn, Fatal exception)."""
        self.lines.append(line)
        self.idle = 0
        self.absorbed.append("PANIC")
        self.message = self.message or match.groupdict().get("message")
        self.panic.absorb(self.trace)

    def _release_from(self, text: str) -> None:
        if "release" in self.fields:
            return
        m = RELEASE_RE.match(text)
        if m:
            self.fields["release"] = m.group("release") or m.group("release2")
            self.fields.setdefault("taint", _taint(m.group("taint") or m.group("taint2")))

    def _add_modules(self, text: str) -> None:
        for token in text.split():
            m = MODULE_NAME_RE.match(token)
            if m:
                self.modules.append(m.group("name"))

    # -- the result ------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        if self.panic.cut_short:
            return False
        if self.ended or self.panic.done:
            return True
        main = [e for e in self.trace.entries if e.main]
        if self.at_eof and self.trace.code_ended and main and main[-1].rip and len(main) > 1:
            # a WARN's trap frames, its registers, and the console ended: the
            # trace that goes on below the registers was never printed (testdata 500)
            return False
        if (
            self.trace.state == S.TRACE
            and not self.trace.contexts
            and not self.trace.trace_done
            and self.trace.frames
            and _TRACE_BOTTOM.search(self.trace.frames[-1].function or "")
        ):
            return True  # the console ends where the trace does anyway
        if self.trace.state == S.TRACE and (self.trace.contexts or not self.trace.trace_done):
            return False
        if self.fmt.complete == "end":
            return False
        if self.fmt.complete == "trace" and self.fmt.trace:
            return self.trace.trace_done
        return True

    def build(self, expected: Sequence[Expected], foreign: int) -> KernelReport:
        fmt = self.fmt
        kind, titles, sources, skip, pick = (
            fmt.kind,
            fmt.titles,
            fmt.sources,
            fmt.skip,
            fmt.pick,
        )
        location = self.fields.get("location")
        header_named = self.fields.get("function")
        for ref in REFINEMENTS:
            if kind not in ref.kinds:
                continue
            hits = []
            if ref.location is not None:
                hits.append(bool(location and ref.location.search(location)))
            if ref.message is not None:
                hits.append(bool(self.message and ref.message.search(self.message)))
            if ref.function is not None:
                hits.append(bool(header_named and ref.function.search(header_named)))
            if ref.absorbed is not None:
                hits.append(ref.absorbed in self.absorbed)
            if all(hits) if ref.every else any(hits):
                kind, titles, sources, skip, pick = (
                    ref.kind,
                    ref.titles,
                    ref.sources,
                    ref.skip,
                    ref.pick,
                )
                break
        function, module = guilty(
            Evidence(self.trace.entries, self.fields, self.body, fmt), sources, skip, pick
        )
        if function is None and header_function not in sources and header_named:
            # no stack to choose from: the function the header names
            function = strip_syscall_prefix(plain(header_named))
            if (skip is not None and skip.search(function)) or SKIP_ALWAYS.search(function):
                function = None
        truncated = not self.complete
        reasons = []
        if fmt.trace and not self.trace.entries and (fmt.complete == "trace" or self.at_eof):
            reasons.append("no call trace")
        if truncated and any("{function}" in t for t in titles):
            # a cut stack can name the wrong function; a message title stays right
            reasons.append("cut short by a panic" if self.panic.cut_short else "cut short")
        if foreign:
            reasons.append(f"{foreign} line(s) of other output interleaved")
        if fmt.corrupted:
            reasons.append("the report this message follows was not printed")
        if any(e.function.startswith("should_fail") for e in self.trace.entries):
            reasons.append("fault-injection stack interleaved")
        # a report with a stack that named nothing (a stall whose backtraces never came,
        # or only other tasks'): syzkaller's "extracted no stack frame", "... in corrupted"
        if function is None and fmt.trace and any("{function}" in t for t in titles):
            if not reasons:
                reasons.append("no guilty frame in its stack")
            function = "corrupted"
        corrupted = bool(reasons)
        values = {k: sanitize(v) if k == "what" else v for k, v in self.fields.items()}
        if "undefined" in values and "bug" not in values:
            values["bug"] = "undefined-behaviour"  # UBSAN before 5.x named no kind
        values.update(
            function=function or "",
            location=location or "",
            message=sanitize_message(self.message or ""),
            trap=_trap_name(self.fields.get("what", "")),
            level=(self.fields.get("level") or "").lstrip("[ "),
        )
        title = Title(values).fill(titles, fmt.kind)
        if function == "corrupted":
            function = None
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
            rip=self.trace.rip,
            message=self.message,
            frames=tuple(self.trace.frames),
            modules=tuple(dict.fromkeys(self.modules)),
            raw="\n".join(ln.raw for ln in self.lines),
            start_line=self.lines[0].no,
            end_line=self.lines[-1].no,
            start_time=times[0] if times else None,
            end_time=times[-1] if times else None,
            truncated=truncated,
            corrupted=corrupted,
            corrupted_reason="; ".join(reasons) if corrupted else None,
        )
        report = replace(report, tf_leak=is_tf_leak(report))
        for exp in expected:
            if exp.matches(report):
                return replace(report, expected=True, expected_because=exp.why or exp.pattern)
        return report


# (state, line type) -> Route. A pair not listed is a line the report never takes.
ROUTES: dict[tuple[State, LineType], Route] = {
    (S.PREAMBLE, L.CALLTRACE): Route(10, _Open._calltrace),
    (S.PREAMBLE, L.CPULINE): Route(20, _Open._cpuline),
    (S.PREAMBLE, L.MODULES): Route(10, _Open._first_modules),
    (S.PREAMBLE, L.REGS): Route(10, _Open._regs),
    (S.PREAMBLE, L.INFO): Route(5),
    (S.PREAMBLE, L.SECTION): Route(0, _Open._body),
    (S.PREAMBLE, L.FRAME): Route(2, _Open._has_trace),
    (S.PREAMBLE, L.MARKER): Route(2, _Open._has_trace),
    (S.PREAMBLE, L.END): Route(1, _Open._own_end),
    (S.PREAMBLE, L.SEP): Route(1, _Open._own_end_or_body),
    (S.PREAMBLE, L.TEXT): Route(0, _Open._body),
    (S.PREAMBLE, L.BLANK): Route(0, _Open._blank),
    (S.TRACE, L.FRAME): Route(10),
    (S.TRACE, L.MARKER): Route(0, _Open._marker),
    (S.TRACE, L.REGS): Route(8, _Open._regs),
    (S.TRACE, L.END): Route(10, _Open._own_end),
    (S.TRACE, L.SEP): Route(10, _Open._own_end),
    (S.TRACE, L.TEXT): Route(0, _Open._tail),
    (S.TRACE, L.SECTION): Route(0, _Open._tail),
    (S.TRACE, L.CALLTRACE): Route(0, _Open._tail),
    (S.TRACE, L.CPULINE): Route(0, _Open._tail_cpu),
    (S.TRACE, L.INFO): Route(1),
    (S.TRACE, L.BLANK): Route(0, _Open._blank),
    (S.AFTER, L.END): Route(10, _Open._own_end),
    (S.AFTER, L.SEP): Route(10, _Open._own_end),
    (S.AFTER, L.TEXT): Route(0, _Open._tail),
    (S.AFTER, L.SECTION): Route(0, _Open._tail),
    (S.AFTER, L.CALLTRACE): Route(0, _Open._tail),
    (S.AFTER, L.FRAME): Route(0, _Open._frame_after),
    (S.AFTER, L.MARKER): Route(0, _Open._tail),
    (S.AFTER, L.CPULINE): Route(8, _Open._tail_cpu),
    (S.AFTER, L.MODULES): Route(3, _Open._later_modules),
    (S.AFTER, L.REGS): Route(5, _Open._regs),
    (S.AFTER, L.INFO): Route(3),
    (S.AFTER, L.BLANK): Route(0, _Open._blank),
    (S.SUMMARY, L.REGS): Route(20, _Open._regs),
}


def _trap_name(what: str) -> str:
    return {"stack segment": "stack segment fault"}.get(what, what)


def sanitize_message(message: str) -> str:
    """A panic message for a title: without numbers that change between runs."""
    message = re.sub(r"\s*exitcode=0x[0-9a-f]+", "", message)
    message = re.sub(r"\b0x[0-9a-f]+\b|\b[0-9a-f]{8,}\b", "ADDR", message)
    return message.strip()


# -- the parser -----------------------------------------------------------------------


# What may matter while no report is open: a header hint, a cut line, or
# noise that cleaning removes (and that could hide a hint) -- a superset of
# what the per-line fast path in _line lets through. Searched separately, so
# that each search keeps the regex engine's literal-prefix scan.
_WAKE = (
    HEADER_HINT,
    re.compile(r"cut here"),
    re.compile(r"Linux version \d|SeaBIOS \(version|Booting the kernel"),
    re.compile(r"[\x00\x07\x1b]"),
    re.compile(r"\r(?!\n)"),
)


class _Wake:
    """The next position at or after ``pos`` where any of ``_WAKE`` matches
    in ``data`` (each pattern's next hit is remembered until passed)."""

    def __init__(self, data: str, end: int) -> None:
        self.data, self.end = data, end
        # -1: not searched yet; None: no more matches
        self.next: list[int | None] = [-1] * len(_WAKE)

    def hit(self, i: int, pos: int) -> int | None:
        """The next match of pattern ``i`` at or after ``pos``."""
        hit = self.next[i]
        if hit is not None and hit < pos:
            m = _WAKE[i].search(self.data, pos, self.end)
            hit = self.next[i] = m.start() if m else None
        return hit

    def at(self, pos: int) -> int | None:
        best: int | None = None
        for i in range(len(_WAKE)):
            hit = self.hit(i, pos)
            if hit is not None and (best is None or hit < best):
                best = hit
        return best

    def noisy(self) -> bool:
        """Whether the text holds noise that cleaning removes anywhere."""
        return any(self.hit(i, 0) is not None for i in range(3, len(_WAKE)))


class ConsoleParser:
    """Streaming console reader: ``feed()`` text as it arrives (any chunk
    size, partial lines fine), ``close()`` at the end; finished reports
    appear in :attr:`reports` as soon as they end (a panic that follows one
    is merged into it in place).

    expected: messages declared expected (see :class:`Expected`)."""

    def __init__(self, expected: Sequence[Expected] = ()) -> None:
        self.expected = tuple(expected)
        self.reports: list[KernelReport] = []
        self._partial = ""
        self._no = 0
        self._open: list[_Open] = []
        self._lingering: list[tuple[int, _Open]] = []
        self._cut: list[Line] | None = None
        self._closed = False
        # per line: (number, caller, blank, taken by a report)
        self._seen: deque[list[Any]] = deque(maxlen=SPAN_MEMORY)
        self._last_end = -(10**9)
        self._first_text: int | None = None  # the number of the first non-blank line
        self._reboot: Line | None = None  # a new boot's first line after earlier output
        # a line with a header keyword that matched no header: the next line may be
        # the rest of the same printk() (a task name holding a newline, testdata 1001)
        self._unmatched: Line | None = None
        # kernel banners seen, -1 when the console did not start with a boot
        self._boots = 0

    def feed(self, text: str) -> list[KernelReport]:
        """Read more console text; return the reports that ended in it."""
        if self._closed:
            raise ValueError("feed() after close()")
        before = len(self.reports)
        data = self._partial + text
        end = data.rfind("\n") + 1  # complete lines end here
        if self._first_text is None:
            self._find_first_text(data, end)
        self._partial = data[end:]
        pos = 0
        wake = _Wake(data, end)
        count = data.count
        find = data.find
        line = self._line
        # Without noise to clean, the raw line holds a header hint exactly
        # when the cleaned one does: one search finds the next for all lines.
        hints = not wake.noisy()
        next_hint: int | None = -1
        while pos < end:
            if (
                not self._open
                and self._cut is None
                and not self._lingering
                and self._unmatched is None
            ):
                # Idle: nothing but a header or a cut line can matter, so jump
                # to the next line that may hold one (in C, not line by line).
                hit = wake.at(pos)
                if hit is None:
                    self._no += count("\n", pos, end)
                    break
                start = data.rfind("\n", pos, hit) + 1
                if start > pos:
                    self._no += count("\n", pos, start)
                    pos = start
            eol = find("\n", pos, end)
            raw = data[pos:eol]
            hinted: bool | None = None
            if hints:
                if next_hint is not None and next_hint < pos:
                    next_hint = wake.hit(0, pos)
                hinted = next_hint is not None and next_hint < eol
            line(raw[:-1] if raw.endswith("\r") else raw, hinted)
            pos = eol + 1
        return self.reports[before:]

    def _find_first_text(self, data: str, end: int) -> None:
        """The console's first line of output (not blank, not a '#' comment as
        in a corpus file's header), and whether it starts a boot."""
        pos, no = 0, self._no
        while pos < end:
            eol = data.find("\n", pos, end)
            no += 1
            text = clean(no, data[pos:eol]).text
            if text.strip() and not text.startswith("#"):
                self._first_text = no
                self._boots = -1 if RESET_RE.match(text) is None else 0
                return
            pos = eol + 1

    def close(self) -> list[KernelReport]:
        """End of the console: flush, report open splats (truncated unless
        complete), and return every report in console order."""
        if not self._closed:
            if self._partial:
                raw = self._partial
                self._partial = ""
                self._line(raw[:-1] if raw.endswith("\r") else raw)
            for rep in list(self._open):
                rep.at_eof = True
                self._finish(rep)
            for _, rep in self._lingering:
                rep.at_eof = True
            self._flush_lingering()
            self._closed = True
            if not self.reports and self._reboot is not None:
                self.reports.append(_reboot_report(self._reboot))
            self.reports.sort(key=lambda r: r.start_line)
        return self.reports

    # -- one line ------------------------------------------------------------------
    def _line(self, raw: str, hinted: bool | None = None) -> None:
        self._no += 1
        line = clean(self._no, raw)
        if self._lingering:
            self._expire_lingering()
        text = line.text
        if (
            self._reboot is None
            and text.startswith(_BOOT_STARTS)
            and RESET_RE.match(text)
            # the kernel prints its banner at time 0; without that stamp it is
            # /proc/version read by a shell that shares the console
            and (line.ts == 0.0 or not text.startswith("Linux"))
        ):
            # a boot after other output, or a second kernel
            if self._boots < 0 or (self._boots > 0 and text.startswith("Linux")):
                self._reboot = line
            elif text.startswith("Linux"):
                self._boots += 1
        if hinted is None:
            hinted = HEADER_HINT.search(text) is not None
        if self._unmatched is not None:
            first, self._unmatched = self._unmatched, None
            if (
                line.ts is not None
                and line.ts == first.ts
                and line.caller == first.caller
                and not hinted
            ):
                # printk prints each line of one message with the same stamp
                joined = replace(first, text=first.text + " " + text)
                whole = find_header(joined.text)
                if whole is not None:
                    self._seen.append([self._no, line.caller, False, True])
                    self._header(joined, *whole)
                    return
        # Fast path: outside any report only a header or a cut line matters.
        if (
            not self._open
            and self._cut is None
            and not self._lingering
            and not (hinted or text.startswith("-"))
        ):
            return
        seen = [self._no, line.caller, not text.strip(), False]
        self._seen.append(seen)
        found = find_header(text) if hinted else None
        if found is not None and any(
            rep.trace.state == S.PREAMBLE
            and rep.fmt.body is not None
            and rep.fmt.body is not ANY
            and rep.fmt.body.match(text)
            for rep in self._open
        ):
            found = None  # a line an open report's own body format claims (SLUB's INFO: lines)
        if found is not None:
            seen[3] = True
            self._header(line, *found)
            return
        if hinted:
            self._unmatched = line
        lt, extra = classify_rest(text)
        if lt == L.RESET:
            for rep in list(self._open):
                self._finish(rep)
            self._flush_lingering()
            self._cut = None
            return
        if lt == L.CUT:
            self._cut = [line]
            seen[3] = True
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
            seen[3] = True
            best.add(lt, line, extra)
            if (best.ended and best.trace.state != S.SUMMARY) or (
                best.trace.state == S.AFTER and best.fmt.end is None and best.fmt.tail is None
            ):
                self._finish(best)  # nothing more can belong to it
        elif (
            lt == L.TEXT
            and self._cut is not None
            and len(self._cut) < 4
            and text.strip()
            and _in_order(self._cut[-1].ts, line.ts)
        ):
            seen[3] = True
            self._cut.append(line)  # a WARN message between "cut here" and its header
        for rep in list(self._open):
            if rep is best:
                continue
            rep.idle += 1
            if self._foreign_ends(rep, lt):
                self._finish(rep, linger=rep.trace.state == S.AFTER)
            elif rep.idle > IDLE_LIMIT:
                self._finish(rep)

    def _foreign_ends(self, rep: _Open, lt: LineType) -> bool:
        """Does a line that is not this report's end it?"""
        if lt == L.BLANK:
            return False
        if rep.trace.state == S.SUMMARY or (not rep.fmt.trace and rep.trace.state == S.PREAMBLE):
            return True
        if rep.trace.state == S.AFTER and rep.fmt.end is None:
            return True
        if (
            rep.trace.state == S.TRACE
            and not rep.trace.contexts
            and rep.trace.frames
            and lt == L.TEXT
        ):
            rep.trace.end_by_text()
            return rep.fmt.end is None
        return False

    def _header(self, line: Line, fmt: ReportFormat, match: re.Match[str]) -> None:
        if fmt.kind == "PANIC" and self._panic_joins(line, match):
            return
        for rep in reversed(self._open):
            if rep.takes_twin(fmt, line, match):
                rep.take_twin(line, match)
                self._age_others(rep)
                return
        for rep in reversed(self._open):
            if rep.trace.state == S.PREAMBLE and fmt.kind in rep.fmt.absorbs and rep.idle <= 8:
                loc = match.groupdict().get("location")
                if fmt.kind == rep.fmt.kind == "WARNING" and (
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

    def _panic_joins(self, line: Line, match: re.Match[str]) -> bool:
        """A panic is part of the report it follows: an open one, or one that
        ended a moment ago (merged into it in :attr:`reports`)."""
        for rep in reversed(self._open):
            if rep.fmt.kind != "PANIC" and (
                line.caller is None or rep.caller is None or line.caller == rep.caller
            ):
                rep.absorb_panic(line, match)
                self._age_others(rep)
                return True
        if self.reports and self._no - self._last_end <= PANIC_WINDOW:
            last = self.reports[-1]
            if last.kind != "PANIC":
                self.reports[-1] = replace(
                    last,
                    message=last.message or match.groupdict().get("message"),
                    raw=last.raw + "\n" + line.raw,
                    end_line=line.no,
                )
                return True
        return False

    def _age_others(self, current: _Open) -> None:
        for rep in list(self._open):
            if rep is current:
                continue
            rep.idle += 1
            if (
                rep.trace.state == S.SUMMARY
                or (rep.trace.state == S.AFTER and rep.fmt.end is None)
                or (not rep.fmt.trace and rep.trace.state == S.PREAMBLE)
            ):
                self._finish(rep)

    def _reopen(self, lt: LineType, line: Line, extra: Any) -> _Open | None:
        """A line with nowhere to go: give it back to a report that a foreign
        line (another CPU's) closed a moment ago, if it fits there."""
        for i in range(len(self._lingering) - 1, -1, -1):
            _, rep = self._lingering[i]
            fits = rep.score(lt, line, extra) >= 0
            if not fits and lt in (L.FRAME, L.MARKER):
                rep.trace.state = S.TRACE
                fits = rep.score(lt, line, extra) >= 0
                if not fits:
                    rep.trace.state = S.AFTER
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
            self._emit(rep)

    def _emit(self, rep: _Open) -> None:
        self.reports.append(rep.build(self.expected, self._foreign_lines(rep)))
        self._last_end = self._no

    def _foreign_lines(self, rep: _Open) -> int:
        return len(self._foreign(rep))

    def _foreign(self, rep: _Open) -> list[int]:
        """Lines inside the report's span that it did not take and that
        nothing (a different caller id, being blank) sets apart."""
        first, last = rep.lines[0].no, rep.lines[-1].no
        mine = {ln.no for ln in rep.lines}
        found = []
        for no, caller, blank, taken in reversed(self._seen):  # the span is the recent end
            if no < first:
                break
            if no > last or no in mine or blank:
                continue
            if caller is not None and rep.caller is not None and caller != rep.caller:
                continue
            if not taken and not rep.fmt.trace:
                continue
            found.append(no)
        return found

    def _expire_lingering(self) -> None:
        while self._lingering and self._lingering[0][0] < self._no:
            _, rep = self._lingering.pop(0)
            self._emit(rep)

    def _flush_lingering(self) -> None:
        for _, rep in self._lingering:
            self._emit(rep)
        self._lingering = []


# -- entry points ------------------------------------------------------------------------

CHUNK = 1 << 20


_BOOT_STARTS = ("Linux version", "SeaBIOS", "Decompressing Linux", "Booting the kernel")


def _reboot_report(line: Line) -> KernelReport:
    """A new boot's first line after other output, when nothing else was reported:
    the machine restarted without a word from the kernel (a triple fault, a
    watchdog, a reset), which syzbot titles ``unexpected kernel reboot``."""
    return KernelReport(
        kind="REBOOT",
        title="unexpected kernel reboot",
        header=line.text,
        raw=line.raw,
        start_line=line.no,
        end_line=line.no,
        start_time=line.ts,
        end_time=line.ts,
    )


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


_ = CPU_RE  # re-exported for callers that classify CPU lines themselves
