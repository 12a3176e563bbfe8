"""The kernel's report formats as table rows, and how each names its bug.

Each :class:`ReportFormat` row says how a kind of report starts (its header
regex), what its title is (templates in syzbot's conventions: ``WARNING in
f``, ``KASAN: use-after-free Read in f``, ``INFO: task hung in f``...), how
it ends, and where its guilty function comes from: the source functions
that read its stacks, in order (:mod:`guestdbg.kernlog.guilty`), which
frames are never guilty (:mod:`guestdbg.kernlog.skips`, by subsystem, and
the row's own ``skip``), and how the frame is picked (:class:`Pick`). A
WARNING whose site says more (refcount_t, list debugging, debug objects...)
is refined by a :class:`Refinement` row. Adding a format is adding a row.

Header strings come from the kernel's own sources (``mm/kasan/report.c``,
``kernel/rcu/tree_stall.h``, ``lib/ubsan.c``, ``kernel/locking/lockdep.c``,
``mm/kmemleak.c``, ``kernel/hung_task.c``, ``kernel/watchdog.c``,
``kernel/workqueue.c``, ``arch/*/mm/fault.c``, ``kernel/panic.c``), across
Linux 3.x to 6.x; titles and skip lists follow syzkaller's pkg/report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guestdbg.kernlog.guilty import (
    LOCK_AT,
    Pick,
    Source,
    allocation_backtrace,
    body_line,
    call_trace,
    faulting_ip,
    from_ip_down,
    header_function,
    interrupted_task,
    lock_chain,
    lock_ip,
    lock_site,
    section_stack,
    stuck_work,
)
from guestdbg.kernlog.lines import DECODED, FUNC, OFFSETS, SEPARATOR_RE

KINDS = (
    "WARNING",
    "BUG",
    "OOPS",
    "PANIC",
    "KASAN",
    "KMSAN",
    "KCSAN",
    "KFENCE",
    "UBSAN",
    "LOCKDEP",
    "MEMORY_LEAK",
    "SOFT_LOCKUP",
    "HARD_LOCKUP",
    "RCU_STALL",
    "HUNG_TASK",
    "WORKQUEUE_LOCKUP",
    "REFCOUNT",
    "LIST_CORRUPTION",
    "NMI",
    "REBOOT",  # not a format: a new boot after other output, nothing reported
)


@dataclass(frozen=True)
class ReportFormat:
    """One kind of report, as the kernel prints it.

    header: the line that starts it, matched where it begins in the line (any
        text may be glued before it); named groups fill fields and titles.
    titles: title templates; the first whose fields are all known is used.
    sources, skip, pick: where the guilty function comes from (functions of
        :mod:`guestdbg.kernlog.guilty`, tried in order), which frames
        are never guilty for this kind (besides :data:`SKIP_ALWAYS`), and how
        the frame is picked among the rest.
    end: a line that ends the report (kept in it). complete: what a report
        needs to not be truncated: ``"trace"`` its call trace to the end,
        ``"end"`` its end line, ``"header"`` nothing more.
    body: lines it takes between the header and its call trace besides the
        common ones (CPU, Modules linked in, registers...), ANY for all.
    tail: lines it takes after its call trace, ANY for all.
    absorbs: kinds whose header lines, close after this header, are part of
        this report (the ``Oops:`` after ``BUG: kernel NULL pointer``).
    summary: registers printed again after the end line (x86 oopses).
    trace: whether it has a call trace at all.
    fields: regexes tried on every line of the report; named groups fill
        fields not yet known (KASAN's ``Read of size``).
    function_re: the guilty function in a body line (body_line, LOCK_AT).
    message_after_header: the line right after the header is the message.
    body_message: the first body line is the message (UBSAN).
    corrupted: the title itself says the report's cause was missed (a
        ``Fatal exception`` panic with no oops before it).
    rip_guilty: the faulting instruction (RIP:, IP:, pc; source faulting_ip) is guilty whatever
        subsystem it is in, unless a sanitizer or string helper (page faults,
        general protection faults: the access that faulted happened there).
    section: the section line whose stack section_stack reads.
    """

    kind: str
    header: re.Pattern[str]
    titles: tuple[str, ...]
    sources: tuple[Source, ...] = (faulting_ip, call_trace)
    skip: re.Pattern[str] | None = None
    pick: Pick = Pick.FIRST
    end: re.Pattern[str] | None = None
    complete: str = "trace"
    body: re.Pattern[str] | None = None
    tail: re.Pattern[str] | None = None
    absorbs: frozenset[str] = frozenset()
    summary: bool = False
    trace: bool = True
    fields: tuple[re.Pattern[str], ...] = ()
    function_re: re.Pattern[str] | None = None
    message_after_header: bool = False
    body_message: bool = False
    corrupted: bool = False
    rip_guilty: bool = False
    section: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Refinement:
    """A report of one of ``kinds`` whose location, message, header function
    or absorbed header says more becomes ``kind`` with these titles (the
    refcount_t WARN, list corruption, ODEBUG, a 3.x hard lockup...): when any
    of the criteria given matches, or with ``every`` when all of them do."""

    kind: str
    kinds: frozenset[str]
    titles: tuple[str, ...]
    location: re.Pattern[str] | None = None
    message: re.Pattern[str] | None = None
    function: re.Pattern[str] | None = None
    absorbed: str | None = None
    every: bool = False
    sources: tuple[Source, ...] = (faulting_ip, call_trace)
    skip: re.Pattern[str] | None = None
    pick: Pick = Pick.FIRST


ANY = re.compile(r"")  # a body/tail that accepts every line
END_TRACE = re.compile(r"^---\[ end trace\b")
END_PANIC = re.compile(r"^---\[ end Kernel panic\b")
# The workqueue's frames that take a work item's or a flush's lockdep map
SKIP_WORKQUEUE_LOCKS = re.compile(
    r"process_one_work|flush_workqueue|drain_workqueue|destroy_workqueue"
)
_LOCKDEP_TASK = re.compile(
    r"^(?P<comm>\S+)/(?P<pid>\d+) (?:\[[^\]]*\] )?(?:is trying to (?:acquire|release)"
    r"|takes|just changed|is freeing|is leaving|is exiting)"
)
# mm/kasan/report.c: "Read of size 8 at addr f by task t/1" (4.11+),
# "Read of size 8 by task t/1" (before: the address was in the header line),
# "Write at addr f of size 1" (tag-based modes), "Read at addr f by task t/1" (the
# hardware tag-based mode, arm64 MTE: no size)
_KASAN_ACCESS = re.compile(
    r"^(?P<access>Read|Write) (?:of size \d+(?: at addr \S+)?|at addr \S+(?: of size \d+)?)"
    r"(?: by task (?P<comm>.+)/(?P<pid>\d+))?"
)
_KFENCE_ACCESS = re.compile(r"^(?:Out-of-bounds|Use-after-free|Invalid) (?P<access>read|write) at")
HUNG_BODY = re.compile(
    r"^(?:\s+(?:Not tainted|Tainted:)|\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\"|"
    r"task:\S*\s+state:|\S+\s+D\s)"
)
RCU_BODY = re.compile(
    r"^(?:rcu: |\t|\s+\(|\s*\(detected by|\s+\d+-|\s*\d+-\S*: |rcu_\w+ kthread|"
    r"Unless rcu_\w+ kthread|\s+Unless|All QSes seen|\S+\s+R\s+running task|"
    r"Task dump for CPU|rcu_\w+ kthread starved|RCU grace-period kthread)"
)
# arm64's dump_backtrace() spells it "Call trace:" (syzkaller's linuxCallTrace takes both)
BACKTRACE_TAIL = re.compile(
    r"^(?:rcu: |\t|NMI backtrace for cpu|Sending NMI from CPU|CPU: \d+ |Hardware name:|"
    r"RIP:|Code:|R[A-Z0-9]{2}:|[CDEFGS]S:|CR\d:|DR\d:|PKRU:|Call [Tt]race:|task:\S*\s+state:|"
    r"Workqueue:|Task dump for CPU)"
)
# A held lock's line (" #0: ... at: f+0x12/0x34") loses its indentation in
# scripts/decode_stacktrace.sh, which prints a line with a symbol as its words joined by spaces
MIGHT_SLEEP_BODY = re.compile(
    r"^(?:in_atomic\(\)|preempt_count:|RCU nest depth:|\d+ locks? held by|\s*#\d+: |"
    r"Preemption disabled at:|\[<[0-9a-f]+>\]|\s*\S+\+0x)"
)
NMI_BODY = re.compile(
    r"^(?:Do you have a strange power saving mode enabled\?|"
    r"Dazed and confused, but trying to continue)"
)
LEAK_BODY = re.compile(
    r"^(?:\s+comm \"|\s+hex dump|\s+[0-9a-f]{2} [0-9a-f]{2} |unreferenced object)"
)
WQ_BODY = re.compile(
    r"^(?:Showing busy|workqueue |\s+pwq |\s+in-flight:|\s+pending:|\s+inactive:|"
    r"pool \d+:|\s+delayed:)"
)
SLUB_BODY = re.compile(
    r"^(?:INFO: (?:Freed|Allocated|Slab|Object|Allocated in|Freed in|0x)|-{5,}|Redzone |Object |"
    r"Padding |FIX |Bytes b4 |\s+\S+\+0x|\s+age=)"
)
OOPS_ABSORBS = frozenset({"OOPS", "PANIC"})
WARN_ABSORBS = frozenset({"WARNING", "HARD_LOCKUP", "PANIC"})
REPORT_ABSORBS = frozenset({"PANIC"})


def _row(kind: str, header: str, *titles: str, **kw: object) -> ReportFormat:
    return ReportFormat(kind, re.compile(header), titles, **kw)  # type: ignore[arg-type]


_LOCKDEP = {
    "sources": (lock_site, call_trace),
    "body": ANY,
    "function_re": LOCK_AT,
    "fields": (_LOCKDEP_TASK,),
    "absorbs": REPORT_ABSORBS,
}
_OOPS = {"end": END_TRACE, "absorbs": OOPS_ABSORBS, "summary": True}
_FAULT = {**_OOPS, "rip_guilty": True}

FORMATS: tuple[ReportFormat, ...] = (
    # -- lockdep (kernel/locking/lockdep.c): "WARNING:" headers before 4.14 were "[ INFO: ... ]"
    # print_circular_bug() since 4.14: the lock taken ("at:"), the lock held ("at:"), then
    # the dependency chain's stacks ("-> #N"), newest first; the first frame of these
    # that is not locking machinery is named (syzkaller's stack parts for this header).
    # The workqueue's own frames take the locks of work items and flushes: passed over.
    _row(
        "LOCKDEP",
        r"WARNING: possible circular locking dependency detected",
        "possible deadlock in {function}",
        "possible deadlock",
        **{**_LOCKDEP, "sources": (lock_chain,)},
        skip=SKIP_WORKQUEUE_LOCKS,
    ),
    _row(
        "LOCKDEP",
        r"(?:WARNING|\[ INFO): possible (?:circular locking dependency|recursive locking|"
        r"irq lock inversion dependency) detected",
        "possible deadlock in {function}",
        "possible deadlock",
        **_LOCKDEP,
    ),
    # print_bad_irq_dependency(): syzkaller names the first frame of the stack under
    # "... which became X-irq-safe at:" (where the irq-safe lock was taken in irq);
    # the 4.x "[ INFO: ... ]" form, often cut before it, by its "at:" site
    _row(
        "LOCKDEP",
        r"(?:WARNING|\[ INFO): (?:[\w-]+-safe -> [\w-]+-unsafe|[\w-]+-(?:irq|softirq)-safe ->"
        r" [\w-]+-(?:irq|softirq)-unsafe) lock order detected",
        "possible deadlock in {function}",
        "possible deadlock",
        **{**_LOCKDEP, "sources": (section_stack, lock_site, call_trace)},
        section=re.compile(r"^\.\.\. which became "),
    ),
    _row(
        "LOCKDEP",
        r"(?:WARNING|\[ INFO): inconsistent lock state",
        "inconsistent lock state in {function}",
        "inconsistent lock state",
        **_LOCKDEP,
    ),
    # print_unlock_imbalance_bug(): "is trying to release lock (l) at:" and the ip on
    # the next line ("[<address>] f+0x.."); when that is locking machinery, the trace
    _row(
        "LOCKDEP",
        r"(?P<level>WARNING|BUG|\[ BUG): (?P<what>bad unlock balance)",
        "{level}: {what} in {function}",
        "{level}: {what}",
        **{**_LOCKDEP, "sources": (lock_ip, call_trace)},
    ),
    _row(
        "LOCKDEP",
        r"(?P<level>WARNING|BUG|\[ INFO|\[ BUG): (?P<what>held lock freed|"
        r"nested lock was not taken|lock held when returning to user space)",
        "{level}: {what} in {function}",
        "{level}: {what}",
        **_LOCKDEP,
    ),
    # print_lock_nested_lock_not_held(): "WARNING: Nested lock was not taken" (capital N
    # since 4.14; "[ BUG: Nested lock was not taken ]" before)
    _row(
        "LOCKDEP",
        r"(?P<level>WARNING|BUG|\[ BUG): Nested lock was not taken",
        "{level}: nested lock was not taken in {function}",
        "{level}: nested lock was not taken",
        **_LOCKDEP,
    ),
    _row(
        "LOCKDEP",
        r"(?P<level>WARNING|BUG): (?:.* )?still has locks held!",
        "{level}: still has locks held in {function}",
        "{level}: still has locks held",
        **_LOCKDEP,
    ),
    _row(
        "LOCKDEP",
        r"(?P<level>WARNING|INFO|\[ INFO): suspicious RCU usage",
        "{level}: suspicious RCU usage in {function}",
        "{level}: suspicious RCU usage",
        sources=(call_trace,),
        skip=re.compile(r"rcu|kmem|slab|kmalloc|vmalloc|kcalloc|kzalloc"),
        body=ANY,
        absorbs=REPORT_ABSORBS,
    ),
    # print_lock_invalid_wait_context(): "[ BUG: Invalid wait context ]" (5.7+, the
    # brackets kept); syzkaller titles it as the lockdep.c WARNING it is on x86
    # ("WARNING: locking bug in f"), named from the trace
    _row(
        "LOCKDEP",
        r"(?:\[ )?BUG: Invalid wait context",
        "WARNING: locking bug in {function}",
        "WARNING: locking bug",
        **{**_LOCKDEP, "sources": (call_trace,)},
        skip=re.compile(r"lock_sock|release_sock"),
    ),
    _row(
        "LOCKDEP",
        r"INFO: trying to register non-static key",
        "INFO: trying to register non-static key in {function}",
        "INFO: trying to register non-static key",
        sources=(call_trace,),
        skip=re.compile(r"stack|lock|IRQ"),
        body=ANY,
        absorbs=REPORT_ABSORBS,
    ),
    # -- WARN (kernel/panic.c __warn); the 6.18+ form first
    _row(
        "WARNING",
        r"WARNING: (?:\[[^\]]*\] )?(?P<location>\S+:\d+) at (?:"
        + FUNC
        + r"(?:"
        + OFFSETS
        + r")?|0x[0-9a-f]+)(?: \[(?P<module>[\w-]+)\])?(?: \S+:\d+)?(?: \[inline\])?, "
        r"CPU#(?P<cpu>\d+): (?P<comm>.*)/(?P<pid>\d+)\s*$",
        "WARNING in {function}",
        "WARNING",
        end=END_TRACE,
        absorbs=WARN_ABSORBS,
        message_after_header=True,
    ),
    _row(
        "WARNING",
        r"WARNING: (?:CPU: (?P<cpu>\d+) (?:UID: \d+ )?PID: (?P<pid>\d+) )?at "
        r"(?:(?P<location>\S+:\d+) )?"
        + FUNC
        + r"(?:"
        + OFFSETS
        + r"|\(\)|"
        # decode_stacktrace.sh's "f (file.c:12) mod" for "f+0x12/0x34 [mod]"
        + DECODED.replace("?P<src>", "")
        + r")"
        + r"(?: \[(?P<module>[\w-]+)\])?",
        "WARNING in {function}",
        "WARNING",
        end=END_TRACE,
        absorbs=WARN_ABSORBS,
        message_after_header=True,
    ),
    # -- the x86 frame-pointer unwinder (arch/x86/kernel/unwind_frame.c,
    # update_stack_state()/unwind_next_frame()): "WARNING: kernel stack regs at %p
    # in %s:%d has bad 'bp' value %p", "WARNING: kernel stack frame pointer at %p
    # in %s:%d has bad value %p", then a raw dump of the stack
    _row(
        "WARNING",
        r"WARNING: kernel stack (?P<what>regs|frame pointer) at \S+ in \S+ has bad "
        r"(?:'(?P<register>\w+)' )?value",
        "WARNING: kernel stack {what} has bad '{register}' value",
        "WARNING: kernel stack {what} has bad value",
        body=ANY,
        trace=False,
        complete="header",
    ),
    # -- sanitizers (mm/kasan/report.c, mm/kmsan, kernel/kcsan, mm/kfence, lib/ubsan.c)
    # syzkaller titles the three forms alike: "BUG: KASAN: (?:double-free or
    # invalid-free|double-free|invalid-free) in {{FUNC}}" is "KASAN: invalid-free in %[2]v"
    # (pkg/report/linux.go), the "double-free" the kernel prints since 5.19 included
    _row(
        "KASAN",
        r"BUG: KASAN: (?:double-free or invalid-free|invalid-free|double-free)(?P<bug2>)"
        r"(?: in " + FUNC + r"(?:" + OFFSETS + r")?)?",
        "KASAN: invalid-free in {function}",
        "KASAN: invalid-free",
        sources=(header_function, call_trace),
        skip=re.compile(r"kmem_|slab_|kfree|vunmap|vfree|__free_|free_large"),
        end=SEPARATOR_RE,
        complete="end",
        body=ANY,
        tail=ANY,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "KASAN",
        r"BUG: KASAN: (?P<bug>[\w-]+) (?:in|on address|on) " + FUNC + r"?(?:" + OFFSETS + r")?",
        "KASAN: {bug} {access} in {function}",
        "KASAN: {bug} in {function}",
        "KASAN: {bug} {access}",
        "KASAN: {bug}",
        sources=(header_function, call_trace),
        # the arm64 tag-check fault path a KASAN_HW_TAGS report is printed from
        # (syzkaller's skip for this header)
        skip=re.compile(r"kernel_fault|tag_check|mem_abort|^el1_|^el1h_"),
        end=SEPARATOR_RE,
        complete="end",
        body=ANY,
        tail=ANY,
        fields=(_KASAN_ACCESS,),
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "KMSAN",
        r"BUG: KMSAN: (?P<bug>[\w-]+) in "
        + FUNC
        + r"(?:"
        + OFFSETS
        + r")?(?: \[(?P<module>[\w-]+)\])?",
        "KMSAN: {bug} in {function}",
        "KMSAN: {bug}",
        sources=(header_function, call_trace),
        # syzkaller: the generic crypto code is where uninit data is hit, not
        # where it came from; so are the skb and netlink helpers
        skip=re.compile(
            r"alloc_skb|netlink_ack|netlink_rcv_skb|_encrypt$|^(?:crypto|cipher|drbg|rng)_"
        ),
        end=SEPARATOR_RE,
        complete="end",
        body=ANY,
        tail=ANY,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "KCSAN",
        # kernel/kcsan/report.c get_bug_type(): "data-race", or "assert: race" for
        # ASSERT_EXCLUSIVE_*()
        r"BUG: KCSAN: (?P<bug>assert: race|[\w-]+) in "
        + FUNC
        + r"(?:"
        + OFFSETS
        + r")?(?: / (?P<other>[A-Za-z_.$][\w.$]*)(?:"
        + OFFSETS
        + r")?)?",
        "KCSAN: {bug} in {function} / {other}",
        "KCSAN: {bug} in {function}",
        sources=(header_function,),
        end=SEPARATOR_RE,
        complete="end",
        body=ANY,
        tail=ANY,
        trace=True,  # each access has its stack
    ),
    _row(
        "KFENCE",
        # mm/kfence/report.c kfence_report_error(): "out-of-bounds %s", "use-after-free
        # %s", "memory corruption", "invalid %s" (read/write), "invalid free"
        r"BUG: KFENCE: (?P<bug>out-of-bounds|use-after-free|memory corruption|invalid free|"
        r"invalid)(?: (?P<access>read|write))? in " + FUNC + r"(?:" + OFFSETS + r")?",
        "KFENCE: {bug} {access} in {function}",
        "KFENCE: {bug} in {function}",
        sources=(header_function, call_trace),
        end=SEPARATOR_RE,
        complete="end",
        body=ANY,
        tail=ANY,
        fields=(_KFENCE_ACCESS,),
    ),
    _row(
        "UBSAN",
        # before 5.x lib/ubsan.c named no kind of bug ("Undefined behaviour in
        # f.c:1:2"): syzkaller now titles it "UBSAN: undefined-behaviour in f"
        # (formerly by file), see build()
        r"UBSAN: (?:(?P<undefined>Undefined behaviour)|(?P<bug>[\w-]+)) in "
        r"(?P<location>(?P<file>\S+?):\d+)(?::\d+)?\s*$",
        "UBSAN: {bug} in {function}",
        "UBSAN: {bug}",
        sources=(call_trace,),
        skip=re.compile(r"ubsan|overflow"),
        end=SEPARATOR_RE,
        complete="end",
        body=ANY,
        body_message=True,
        absorbs=REPORT_ABSORBS,
    ),
    # -- kmemleak (mm/kmemleak.c): the kernel's own console form and the file syzkaller prints
    _row(
        "MEMORY_LEAK",
        r"(?:BUG: memory leak|unreferenced object 0x[0-9a-f]+ \(size \d+\):)",
        "memory leak in {function}",
        "memory leak",
        sources=(allocation_backtrace,),
        skip=re.compile(
            r"kmemleak|kmalloc|kcalloc|kzalloc|vmalloc|mmap|kmem|slab|alloc|create_object|"
            r"idr_get|list_lru_init|kasprintf|kvasprintf|pcpu_create|strdup|strndup|memdup"
        ),
        body=LEAK_BODY,
        complete="header",
    ),
    # -- page faults and oopses (arch/x86/mm/fault.c, arch/arm64/mm/fault.c...)
    _row(
        "BUG",
        r"BUG: (?:unable to handle |Unable to handle )?(?:kernel )?NULL pointer dereference",
        "BUG: unable to handle kernel NULL pointer dereference in {function}",
        "BUG: unable to handle kernel NULL pointer dereference",
        **_FAULT,
    ),
    _row(
        "BUG",
        r"BUG: unable to handle (?:kernel paging request|page fault for address|kernel data "
        r"access)|BUG: Unable to handle kernel data access",
        "BUG: unable to handle kernel paging request in {function}",
        "BUG: unable to handle kernel paging request",
        **_FAULT,
    ),
    # arm, arm64 (arch/arm*/mm/fault.c die_kernel_fault(), __do_kernel_fault()):
    # "Unable to handle kernel paging request at virtual address ...". syzkaller
    # titles these as x86's "BUG: unable to handle kernel ..." (one bug, one title
    # on every arch); the other kinds arm64 names are paging requests to it too.
    _row(
        "BUG",
        r"Unable to handle kernel (?P<what>NULL pointer dereference|paging request|access to "
        r"user memory)\b",
        "BUG: unable to handle kernel {what} in {function}",
        "BUG: unable to handle kernel {what}",
        **_FAULT,
    ),
    _row(
        "BUG",
        r"Unable to handle kernel (?:execute from non-executable memory|write to read-only "
        r"memory)",
        "BUG: unable to handle kernel paging request in {function}",
        "BUG: unable to handle kernel paging request",
        **_FAULT,
    ),
    # the skb helpers BUG_ON() on their caller's misuse (skb_push, skb_pull...): the
    # caller is named (syzkaller's "^skb_" skip; "kernel BUG in ipgre_header", testdata 582)
    _row(
        "BUG",
        r"kernel BUG at (?P<location>\S+?:\d+)!?",
        "kernel BUG in {function}",
        "kernel BUG",
        skip=re.compile(r"^skb_"),
        **_OOPS,
    ),
    _row(
        "BUG",
        r"BUG: scheduling while atomic: (?P<comm>.+)/(?P<pid>\d+)/0x[0-9a-f]+",
        "BUG: scheduling while atomic in {function}",
        "BUG: scheduling while atomic",
        sources=(call_trace,),
        skip=re.compile(r"^schedule|^__schedule|^do_nanosleep|^io_schedule|sleep|wait"),
        body=MIGHT_SLEEP_BODY,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "BUG",
        r"BUG: sleeping function called from invalid context at (?P<location>\S+)",
        "BUG: sleeping function called from invalid context in {function}",
        "BUG: sleeping function called from invalid context",
        sources=(call_trace,),
        body=MIGHT_SLEEP_BODY,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "BUG",
        r"BUG: using (?P<what>__this_cpu_\w+\(\)|smp_processor_id\(\)) in preemptible",
        "BUG: using {what} in preemptible code in {function}",
        "BUG: using {what} in preemptible code",
        sources=(call_trace,),
        # syzkaller's skip list: the DEBUG_PREEMPT checker itself (debug_smp_processor_id,
        # check_preemption_disabled, __this_cpu_preempt_check) is never guilty
        skip=re.compile(r"dump_stack|preempt|debug_|processor_id|this_cpu"),
        body=ANY,
    ),
    _row(
        "BUG",
        r"BUG: spinlock (?P<what>lockup suspected|already unlocked|already locked|recursion|"
        r"bad magic|wrong owner|wrong CPU|cpu recursion)",
        "BUG: spinlock {what} in {function}",
        "BUG: spinlock {what}",
        sources=(call_trace,),
        skip=re.compile(r"spin_"),
        body=ANY,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "SOFT_LOCKUP",
        r"BUG: soft lockup - CPU#(?P<cpu>\d+) stuck for (?P<seconds>\d+)s! "
        r"\[(?P<comm>.+):(?P<pid>\d+)\]",
        "BUG: soft lockup in {function}",
        "BUG: soft lockup",
        # kernel/watchdog.c watchdog_timer_fn() shows the interrupted context's regs
        # and stack (show_regs): syzkaller reads them all from the RIP line down, the
        # softirq the timer interrupt hit before the task below it
        sources=(from_ip_down,),
        pick=Pick.STALL,
        tail=BACKTRACE_TAIL,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "WORKQUEUE_LOCKUP",
        # kernel/workqueue.c wq_watchdog_timer_fn(); syzbot titles it without a
        # function. The report's function is the work in flight on the stuck pool.
        r"BUG: workqueue lockup - pool cpus=(?P<pool_cpus>\S+)",
        "BUG: workqueue lockup",
        sources=(stuck_work,),
        body=WQ_BODY,
        complete="header",
        trace=False,
    ),
    # kernel/workqueue.c process_one_work(): "BUG: workqueue leaked lock or atomic:
    # comm/0x%08x/pid" then "     last function: %ps" (before 6.9); since then
    # "BUG: workqueue leaked atomic, lock or RCU: comm[pid]" then "     preempt=...
    # workfn=%ps". The work function is the guilty one.
    _row(
        "BUG",
        r"BUG: (?P<what>workqueue leaked (?:lock or atomic|atomic, lock or RCU))",
        "BUG: {what} in {function}",
        "BUG: {what}",
        sources=(body_line,),
        function_re=re.compile(r"^\s+(?:last function: |preempt=.* workfn=)" + FUNC),
        body=ANY,
        trace=False,
        complete="header",
    ),
    # arch/x86/kernel/traps.c handle_stack_overflow(): "BUG: %s stack guard
    # page was hit at" since 5.x names the stack (TASK, IRQ, #DF, NMI...);
    # syzbot titles both forms "BUG: stack guard page was hit in f". The
    # overflowing frame is wherever the recursion ran out of stack: syzkaller
    # reads from the RIP line down with its stall extractor (the frame above
    # the syscall or work dispatcher: "in sys_open").
    _row(
        "BUG",
        r"BUG: (?:[A-Z#]+ )?stack guard page was hit at",
        "BUG: stack guard page was hit in {function}",
        "BUG: stack guard page was hit",
        sources=(from_ip_down,),
        pick=Pick.STALL,
        **_OOPS,
    ),
    # fs/dcache.c umount_check(): "BUG: Dentry %p{i=%lx,n=%pd}  still in use (%d)
    # [unmount of %s %s]", two spaces before "still"
    _row(
        "BUG",
        r"BUG: Dentry \S+\s+still in use \(\d+\) \[unmount of (?P<fs>[^\]]+)\]",
        "BUG: Dentry still in use [unmount of {fs}]",
        **_OOPS,
    ),
    _row(
        "BUG",
        r"BUG: (?P<what>Bad rss-counter state|non-zero nr_ptes on freeing mm|"
        r"non-zero nr_pmds on freeing mm|non-zero pgtables_bytes on freeing mm)",
        "BUG: {what}",
        trace=False,
        complete="header",
    ),
    _row(
        "BUG",
        # mm/memory.c print_bad_pte(): its stack is where the bad pte was
        # found, not the page's origin; syzkaller titles it without a function
        r"BUG: Bad page map",
        "BUG: Bad page map",
        sources=(call_trace,),
        body=ANY,
        absorbs=REPORT_ABSORBS,
    ),
    # mm/page_alloc.c bad_page(): the stack is where the page was found bad, which
    # says little; syzkaller names the page's allocation stack (page_owner: "page
    # last allocated via ..."), and without one the report is "in corrupted"
    _row(
        "BUG",
        r"BUG: (?P<what>Bad page state|Bad page cache)",
        "BUG: {what} in {function}",
        "BUG: {what}",
        sources=(section_stack,),
        section=re.compile(r"^page last allocated via "),
        skip=re.compile(
            r"(?:free|put|get|update|release)_page|free_unref|^_*folio|truncate_inode_pages|"
            r"page_frag_free|alloc|vmap|page_owner"
        ),
        body=ANY,
        absorbs=REPORT_ABSORBS,
    ),
    # SLUB debugging (mm/slub.c slab_bug()): "BUG kmalloc-128 (Not tainted): Object
    # already free" (before 2.6.31 without the taint: "BUG kmalloc-8: Redzone overwritten").
    # Not KASAN's object description of Linux 4.4-4.10 (mm/kasan/report.c
    # print_address_description(): object_err(cache, page, object, "kasan: bad
    # access detected")), which is part of a KASAN report, not a report of its own.
    _row(
        "BUG",
        r"BUG (?P<cache>[\w:.-]+)(?: \([^)]*\))?: (?!kasan: )(?P<what>[^\n]+?)\s*$",
        "BUG: {what}",
        sources=(call_trace,),
        skip=re.compile(
            r"^(?:object_err|slab_err|slab_bug|print_trailer|__slab_free|slab_free|"
            r"free_debug_processing|alloc_debug_processing|on_freelist|check_)"
        ),
        body=SLUB_BODY,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "BUG",
        r"INFO: (?P<which>Freed|Allocated) in " + FUNC + r"(?:" + OFFSETS + r")? age=",
        "INFO: {which} in {function}",
        sources=(header_function,),
        trace=False,
        complete="header",
        corrupted=True,
    ),
    # the catch-all BUG: what it says, without addresses or numbers
    _row(
        "BUG",
        r"BUG: (?P<what>[A-Za-z][^\n]*?)\s*$",
        "BUG: {what} in {function}",
        "BUG: {what}",
        **_OOPS,
    ),
    # -- traps (arch/x86/kernel/traps.c, dumpstack.c)
    _row(
        "OOPS",
        r"(?:Oops: )?(?:segment-related )?general protection fault\b[^:]*(?::|$)",
        "general protection fault in {function}",
        "general protection fault",
        end=END_TRACE,
        summary=True,
        absorbs=REPORT_ABSORBS,
        rip_guilty=True,
    ),
    _row(
        "OOPS",
        r"(?:Oops: )?(?P<what>invalid opcode|double fault|int3|alignment check|"
        r"divide error|bounds|invalid TSS|segment not present|stack segment|"
        r"kernel stack overflow \(double-fault\)|stack guard page)(?:: [0-9a-f]{4}| \[#\d+\]|:)",
        "{trap} in {function}",
        "{trap}",
        end=END_TRACE,
        summary=True,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "OOPS",
        r"PANIC: double fault",
        "PANIC: double fault in {function}",
        "PANIC: double fault",
        sources=(faulting_ip,),
        end=END_TRACE,
        summary=True,
        absorbs=REPORT_ABSORBS,
    ),
    # arm, arm64 die(): "Internal error: %s: %x [#%d]" (Oops, Oops - BUG, synchronous
    # external abort, ...). syzkaller titles every one "Internal error in f"; after
    # an "Unable to handle kernel" header it is part of that report (absorbed).
    _row(
        "OOPS",
        r"Internal error: [^\n]*?:? (?:[0-9a-f]+ )?\[#\d+\]",
        "Internal error in {function}",
        "Internal error",
        end=END_TRACE,
        summary=True,
        absorbs=REPORT_ABSORBS,
    ),
    # arch/arm/mm/fault.c do_DataAbort(), do_PrefetchAbort(): "Unhandled fault: %s (0x%03x)
    # at 0x%08lx", then die() ("Internal error: : 805 [#1]") and its oops: one report
    _row(
        "OOPS",
        r"Unhandled (?:prefetch abort: )?fault: ",
        "Unhandled fault in {function}",
        "Unhandled fault",
        **_OOPS,
    ),
    # arch/arm/mm/alignment.c do_alignment(): "Alignment trap: not handling instruction"
    _row(
        "OOPS",
        r"Alignment trap: ",
        "Alignment trap in {function}",
        "Alignment trap",
        **_OOPS,
    ),
    _row(
        "OOPS",
        r"(?:Internal error: )?Oops(?: - BUG| - undefined instruction)?:? (?:[0-9a-f]+ )?\[#\d+\]",
        "Oops in {function}",
        "Oops",
        end=END_TRACE,
        summary=True,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "BUG",
        r"Kernel BUG (?:at|\[#\d+\])",
        "kernel BUG in {function}",
        "kernel BUG",
        **_OOPS,
    ),
    # -- panics (kernel/panic.c); one that follows a report is part of it
    _row(
        "PANIC",
        # __stack_chk_fail() prints "%pB" of its caller: a bare address when the
        # symbol is unknown, and then the caller is read from the trace (testdata 322)
        r"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: "
        r"(?:(?:0x)?[0-9a-f]{8,16}\b|" + FUNC + r")?",
        "kernel panic: stack is corrupted in {function}",
        "kernel panic: stack is corrupted",
        sources=(header_function, call_trace),
        skip=re.compile(r"stack_chk"),
        end=END_PANIC,
    ),
    _row(
        "PANIC",
        r"Kernel panic - not syncing: corrupted stack end detected inside scheduler",
        "kernel panic: corrupted stack end in {function}",
        "kernel panic: corrupted stack end",
        sources=(call_trace,),
        skip=re.compile(r"schedule|retint_kernel"),
        pick=Pick.STALL,
        end=END_PANIC,
    ),
    _row(
        "PANIC",
        r"Kernel panic - not syncing: (?:\w+: )?(?P<message>Fatal exception(?: in interrupt)?|"
        r"panic_on_warn set|hung_task: blocked tasks|softlockup: hung tasks|"
        r"Hard LOCKUP|RCU Stall|Fatal hardware error|Fatal Machine check)",
        "kernel panic: {message}",
        sources=(call_trace,),
        end=END_PANIC,
        corrupted=True,
    ),
    # drivers/tty/tty_ldisc.c: "Couldn't open N_TTY ldisc for %s --- error %d."
    _row(
        "PANIC",
        r"Kernel panic - not syncing: Couldn't open N_TTY ldisc",
        "kernel panic: Couldn't open N_TTY ldisc",
        sources=(call_trace,),
        end=END_PANIC,
    ),
    _row(
        "PANIC",
        r"Kernel panic - not syncing: (?P<message>.*?)\s*$",
        "kernel panic: {message}",
        sources=(call_trace,),
        skip=re.compile(r"sysrq_handle_|__handle_sysrq|write_sysrq_trigger"),
        end=END_PANIC,
    ),
    # -- watchdogs (kernel/watchdog*.c, kernel/rcu/tree_stall.h, kernel/hung_task.c)
    _row(
        "HARD_LOCKUP",
        r"Watchdog detected hard LOCKUP on cpu (?P<cpu>\d+)",
        "watchdog detected hard LOCKUP in {function}",
        "watchdog detected hard LOCKUP",
        sources=(interrupted_task,),
        pick=Pick.STALL,
        tail=BACKTRACE_TAIL,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "RCU_STALL",
        r"INFO: (?P<flavor>[\w-]+) (?:self-)?detected (?:expedited )?stalls?\b",
        "INFO: rcu detected stall in {function}",
        "INFO: rcu detected stall",
        sources=(interrupted_task,),
        pick=Pick.STALL,
        complete="header",
        body=RCU_BODY,
        tail=BACKTRACE_TAIL,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "HUNG_TASK",
        r"INFO: task (?P<comm>.+):(?P<pid>\d+) blocked (?:in I/O wait )?for more than "
        r"(?P<seconds>\d+) seconds",
        "INFO: task hung in {function}",
        "INFO: task hung",
        sources=(call_trace,),
        pick=Pick.HUNG,
        body=HUNG_BODY,
        tail=BACKTRACE_TAIL,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "HUNG_TASK",
        r"INFO: task (?P<comm>.+):(?P<pid>\d+) can't die for more than (?P<seconds>\d+) seconds",
        "INFO: task can't die in {function}",
        "INFO: task can't die",
        sources=(call_trace,),
        skip=re.compile(r"schedule"),
        body=HUNG_BODY,
        tail=BACKTRACE_TAIL,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "BUG",
        r"unregister_netdevice: waiting for (?P<dev>\S+) to become free",
        "unregister_netdevice: waiting for DEV to become free",
        trace=False,
        complete="header",
    ),
    # fs/super.c generic_shutdown_super(): "VFS: Busy inodes after unmount of %s.
    # Self-destruct in 5 seconds.  Have a nice day..." (since 6.6 "... of %s (%s)", then a
    # BUG); syzkaller titles it as the use-after-free it is, with no function
    _row(
        "BUG",
        r"VFS: Busy inodes after unmount of ",
        "VFS: Busy inodes after unmount (use-after-free)",
        trace=False,
        complete="header",
    ),
    # -- NMIs nobody claimed (arch/x86/kernel/nmi.c)
    _row(
        "NMI",
        r"Uhhuh\. NMI received for unknown reason (?P<reason>\w+) on CPU (?P<cpu>\d+)",
        "NMI received for unknown reason",
        complete="header",
        body=NMI_BODY,
        trace=False,
    ),
    _row(
        "NMI",
        r"NMI: (?P<what>PCI system error \(SERR\)|IOCK error \(debug interrupt\?\))",
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
        ("WARNING: refcount bug in {function}", "WARNING: refcount bug"),
        location=re.compile(r"(?:^|/)lib/refcount\.c:"),
        message=re.compile(r"^refcount_t: "),
        skip=re.compile(r"refcount|kobject_"),
    ),
    Refinement(
        "LIST_CORRUPTION",
        frozenset({"WARNING", "BUG"}),
        ("BUG: corrupted list in {function}", "BUG: corrupted list"),
        location=re.compile(r"(?:^|/)lib/list_debug\.c:"),
        message=re.compile(r"^list_\w+ corruption"),
    ),
    Refinement(
        "WARNING",
        frozenset({"WARNING"}),
        ("WARNING: ODEBUG bug in {function}", "WARNING: ODEBUG bug"),
        location=re.compile(r"(?:^|/)lib/debugobjects\.c:"),
        skip=re.compile(
            r"debug_|rcu|hrtimer_|timer_|work_|percpu_|kmem_|slab_|kfree|vunmap|vfree|__free_|"
            r"kobject_"
        ),
    ),
    Refinement(
        "WARNING",
        frozenset({"WARNING"}),
        ("WARNING: bad usercopy in {function}", "WARNING: bad usercopy"),
        location=re.compile(r"(?:^|/)mm/usercopy\.c:"),
        skip=re.compile(r"usercopy|__check"),
    ),
    Refinement(
        "BUG",
        frozenset({"BUG"}),
        ("BUG: bad usercopy in {function}", "BUG: bad usercopy"),
        location=re.compile(r"(?:^|/)mm/usercopy\.c:"),
        skip=re.compile(r"usercopy|__check"),
    ),
    Refinement(
        "WARNING",
        frozenset({"WARNING"}),
        ("WARNING: proc registration bug in {function}", "WARNING: proc registration bug"),
        location=re.compile(r"(?:^|/)fs/proc/generic\.c:"),
        function=re.compile(r"^proc_register$"),
        skip=re.compile(r"^proc_"),
    ),
    # syzkaller: "WARNING: .*mm/.*\.c.* k?.?malloc" (kmalloc_slab, kvmalloc_node...)
    Refinement(
        "WARNING",
        frozenset({"WARNING"}),
        ("WARNING: kmalloc bug in {function}", "WARNING: kmalloc bug"),
        location=re.compile(r"(?:^|/)mm/\S*\.c:"),
        function=re.compile(r"^k?.?malloc"),
        every=True,
        skip=re.compile(r"kmalloc|krealloc|slab|kmem"),
    ),
    # mm/vmalloc.c __vmalloc_node_range(): WARN_ON_ONCE(!size) and the like;
    # syzkaller: "WARNING: .*mm/vmalloc.c.*__vmalloc_node"
    Refinement(
        "WARNING",
        frozenset({"WARNING"}),
        ("WARNING: zero-size vmalloc in {function}", "WARNING: zero-size vmalloc"),
        location=re.compile(r"(?:^|/)mm/vmalloc\.c:"),
        function=re.compile(r"^__vmalloc_node"),
        every=True,
    ),
    Refinement(
        "WARNING",
        frozenset({"WARNING"}),
        ("WARNING: kobject bug in {function}", "WARNING: kobject bug"),
        location=re.compile(r"(?:^|/)lib/kobject\.c:"),
        skip=re.compile(r"kobject_"),
    ),
    Refinement(
        "WARNING",
        frozenset({"WARNING"}),
        ("WARNING: locking bug in {function}", "WARNING: locking bug"),
        location=re.compile(r"(?:^|/)kernel/locking/lockdep\.c:"),
        skip=re.compile(r"lock_sock|release_sock"),
    ),
    Refinement(
        "WARNING",
        frozenset({"WARNING"}),
        ("WARNING in {function}/usb_submit_urb", "WARNING in usb_submit_urb"),
        function=re.compile(r"^usb_submit_urb$"),
        skip=re.compile(
            r"usb_submit_urb|usb_start_wait_urb|usb_bulk_msg|usb_interrupt_msg|usb_control_msg"
        ),
    ),
    Refinement(
        "HARD_LOCKUP",
        frozenset({"WARNING"}),
        ("watchdog detected hard LOCKUP in {function}", "watchdog detected hard LOCKUP"),
        message=re.compile(r"Watchdog detected hard LOCKUP"),
        absorbed="HARD_LOCKUP",
        sources=(interrupted_task,),
        pick=Pick.STALL,
    ),
)

# Every header keyword, to find a header anywhere in a line with one search.
# test_the_header_hint_finds_every_rows_header checks it against every row of FORMATS.
HEADER_HINT = re.compile(
    r"WARNING:|BUG[: ]|INFO:|\[ INFO:|\[ BUG:|kernel BUG|Kernel BUG|Kernel panic|"
    r"general protection|segment-related|Oops|Internal error|divide error|invalid opcode|"
    r"stack segment|double fault|int3(?::| \[#)|alignment check|bounds(?::| \[#)|invalid TSS|"
    r"segment not present|kernel stack overflow|stack guard page(?::| \[#)|PANIC: double|"
    r"Unable to handle kernel|UBSAN:|"
    r"Watchdog detected|Unhandled (?:prefetch abort: )?fault: |Alignment trap: |"
    r"Uhhuh\.|NMI: |unreferenced object|unregister_netdevice: waiting|VFS: Busy"
)


@dataclass
class Title:
    """What a title template is filled with."""

    values: dict[str, str] = field(default_factory=dict)

    def fill(self, templates: tuple[str, ...], fallback: str) -> str:
        for template in templates:
            keys = re.findall(r"\{(\w+)\}", template)
            if all(self.values.get(k) for k in keys):
                return template.format(**self.values)
        return fallback


_ADDRESS = re.compile(
    r"\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b|"  # IPv6
    r"\b(?:0x)?[0-9a-f]{6,}\b|\b\d+\b|\[[^\]]*\d[^\]]*\]"
)


def sanitize(text: str) -> str:
    """Text for a title: without addresses, numbers and bracketed details."""
    text = re.sub(r"\s+(?:at|for address|, address:)\s+\S*$", "", text)
    text = _ADDRESS.sub("", text)
    text = re.sub(r"\s+", " ", text).strip(" ,:;=!")
    return text
