"""The kernel's report formats as table rows, and how each names its bug.

Each :class:`ReportFormat` row says how a kind of report starts (its header
regex), what its title is (templates in syzbot's conventions: ``WARNING in
f``, ``KASAN: use-after-free Read in f``, ``INFO: task hung in f``...), how
it ends, and where its guilty function comes from: which stacks, in which
order (:class:`Source`), which frames are never guilty (skip lists, by
subsystem), and how the frame is picked (:class:`Pick`). A WARNING whose
site says more (refcount_t, list debugging, debug objects...) is refined by
a :class:`Refinement` row. Adding a format is adding a row.

Header strings come from the kernel's own sources (``mm/kasan/report.c``,
``kernel/rcu/tree_stall.h``, ``lib/ubsan.c``, ``kernel/locking/lockdep.c``,
``mm/kmemleak.c``, ``kernel/hung_task.c``, ``kernel/watchdog.c``,
``kernel/workqueue.c``, ``arch/*/mm/fault.c``, ``kernel/panic.c``), across
Linux 3.x to 6.x; titles and skip lists follow syzkaller's pkg/report.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from guestdbg.kernlog.lines import FUNC, OFFSETS, SEPARATOR_RE

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


class Source(enum.Enum):
    """Where candidate guilty frames come from, in the order a row lists them."""

    HEADER = "header"  # the function the header names (KASAN, KMSAN, KCSAN...)
    RIP = "rip"  # the faulting instruction: RIP:, IP:, pc :, PC is at
    TRACE = "trace"  # the call trace (after the RIP line when the trace holds one)
    TASK = "task"  # the interrupted task's RIP and frames (stalls, lockups)
    FROM_RIP = "from_rip"  # every frame from the first RIP line on, in any context
    LOCK_AT = "lock_at"  # lockdep's "at: f+0x..": the lock being taken or released
    LOCK_IP = "lock_ip"  # lockdep's "[<address>] f+0x..": the ip it printed (print_ip_sym)
    LOCK_CHAIN = "lock_chain"  # lockdep's first two "at:" sites, then its dependency chain
    BODY = "body"  # a body line (the row's function_re): workqueue in-flight work
    BACKTRACE = "backtrace"  # kmemleak's allocation backtrace
    SECTION = "section"  # a secondary stack, under the row's section line (page_owner's)


class Pick(enum.Enum):
    """How the guilty frame is chosen among the candidates left after skipping."""

    FIRST = "first"
    STALL = "stall"  # the frame above the first dispatching frame (syscall, work item...)
    HUNG = "hung"  # the first frame that is not waiting machinery; rtnl/RCU buckets


def _any(*patterns: str) -> str:
    return "|".join(patterns)


# Frames never guilty, grouped by why. Patterns are searched in the function
# name (compiler suffixes removed), as syzkaller's are.
SKIP_REPORTING = _any(
    r"^dump_stack",
    r"^__dump_stack",
    r"^dump_trace$",
    r"^dump_backtrace",
    r"^walk_stackframe",
    r"^unwind_backtrace$",  # arm's dump_stack() unwinder (arch/arm/kernel/unwind.c)
    r"^show_stack",
    r"^show_trace",
    r"^show_regs",
    r"__warn",
    r"warn_slowpath",
    r"warn_alloc",
    r"warn_bogus",  # kernel/locking/irqflag-debug.c warn_bogus_irq_restore()
    r"^report_bug",
    r"^handle_bug",
    r"fixup_bug",
    r"fixup_exception",
    r"do_error_trap",
    r"^do_trap",
    r"_trap$",
    r"invalid_op",
    r"^asm_exc_",
    r"^exc_(?:page_fault|general_protection|invalid_op)",
    r"panic",
    r"^__die",
    r"^die$",
    r"^oops_",
    r"page_fault_oops",
    r"kernelmode_fixup_or_oops",
    r"^no_context$",
    r"bad_area",
    r"do_user_addr_fault",
    r"do_kern_addr_fault",
    r"__do_page_fault",
    r"^do_page_fault$",
    r"print_address_description",
    r"^print_report",
    r"print_usage_bug",
    r"print_circular_bug",
    r"print_unlock_imbalance_bug",
    r"^valid_state$",
    r"check_noncircular",
    r"check_prev_add",
    r"validate_chain",
    r"nmi_cpu_backtrace",
    r"nmi_trigger_cpumask_backtrace",
    r"arch_trigger_cpumask_backtrace",
    r"^rcu_dump_cpu_stacks",
    r"^dump_cpu_task",
    r"^sched_show_task",
    r"^_sched_show_task",
    r"^__pfx_",
    r"_indirect_thunk_",
    r"^program_check_(?:exception|common)$",  # powerpc's trap handler for WARN/BUG
)
SKIP_SANITIZERS = _any(
    r"__sanitizer",
    r"__asan",
    r"kasan",
    r"hwasan",
    r"__msan",
    r"kmsan",
    r"kcsan_setup_watchpoint",
    r"ubsan",
    r"check_memory_region",
    r"check_heap_object",
    r"^check_object",
    r"read_word_at_a_time",
    r"(?:read|write)_once_",
    r"should_fail",
    r"__kfence",
    r"kfence_",
)
_LOCKING = (
    r"lockdep",
    r"lock_acquire",
    r"lock_release",
    r"lock_class",
    r"mark_lock",
    r"(?:reacquire|mark)_held_locks",
    r"raw_spin_rq",
    r"spin_lock",
    r"spin_trylock",
    r"spin_unlock",
    r"queued_spin",
    r"read_lock",
    r"read_trylock",
    r"write_lock",
    r"write_trylock",
    r"read_unlock",
    r"write_unlock",
    r"^down$",
    r"^down_",
    r"^up_read",
    r"^up_write",
    r"^up$",
    r"^mutex_",
    r"^__mutex_",
    r"^rt_mutex_",
    r"^rwsem_",
    r"owner_on_cpu",
    r"^osq_",
    r"bh_enable",
    r"bh_disable",
    r"^trace_hardirqs",
)
SKIP_LOCKING = _any(*_LOCKING)
SKIP_ALLOCATOR = _any(
    r"alloc_page",
    r"^__alloc_pages",
    r"k?v?(?:m|z|c)alloc",  # anywhere, as syzkaller's: free_large_kmalloc, ___kmalloc_large_node
    r"krealloc",
    r"kmem_cache",
    r"allocate_slab",
    r"slab_",
    r"new_slab",
    r"folio_(?:alloc|unlock)",
    r"filemap_alloc_folio",
    r"__filemap_get_folio",
    r"find_or_create_page",
    r"do_read_cache_folio",
    r"read_cache_page",
    r"pagecache_get_page",
    r"grab_cache_page_write_begin",
    r"^kfree",
    r"^kvfree",
    r"__free_pages",
    r"^free_pages",
    r"memdup",
    r"^kstrdup",
    r"^kmemdup",
)
SKIP_PRINTK = _any(
    r"printk",
    r"va_format",
    r"dev_(?:info|notice|warn|err|alert|crit|emerg|printk)",
    r"snprintf",
    r"scnprintf",
    r"sprintf",
    r"kasprintf",
)
SKIP_LIST_DEBUG = _any(
    r"list_add",
    r"list_del",
    r"list_replace",
    r"list_move",
    r"list_splice",
    r"^__list_",
    r"debug_object",
    r"debug_print_object",
    r"debug_check_no",
    r"timer_is_static_object",
    r"work_is_static_object",
    r"^rb_",
    r"^__rb_",
)
SKIP_SCHEDULER = _any(
    r"might_sleep",
    r"might_fault",
    r"might_resched",
    r"__schedule_bug",
    r"^__wake_up",
    r"^finish_wait",
    r"^kthread_stop",
)
SKIP_LIBRARY = _any(
    r"^mem(?:cpy|cmp|set|chr|move)",
    r"^__mem(?:cpy|cmp|set|move)",
    r"^str(?:n?cmp|l?cpy|ncpy|scpy|n?len|n?str|chr|r?chr|n?dup)$",
    r"copy_(?:to|from)_user",
    r"copy_(?:to|from)_iter",
    r"copy_page_(?:to|from)_iter",
    r"copy_folio_to_iter",
    r"^(?:put|get)_user",
    r"atomic(?:64)?_(?:dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)",
    r"(?:set|clear|change|test)_bit",
    r"^refcount_",
    r"^kref_",
    r"ref_tracker",
    r"^perf_trace",
    r"(?:read|write)_once_\w*nocheck",  # the unwinder's stack reads: its caller faulted
)
SKIP_WORK = _any(
    r"del_timer",
    r"flush_work",
    r"__cancel_work",
    r"cancel_work_sync",
    r"try_to_grab_pending",
    r"flush_workqueue",
    r"drain_workqueue",
    r"destroy_workqueue",
    r"queue_work",  # syzkaller's unanchored pattern: __queue_work, queue_work_on
    r"^kobject_",
    r"add_uevent_var",
    r"get_device_parent",
    r"^device_(?:add|del|unregister|destroy|release)$",
    r"devres_release_all",
    r"sysfs_remove",
)
# Helpers that wait, tear down or look up on behalf of their caller, and
# accessors that fault on their caller's pointer (syzkaller's skip list):
# the caller is where the bug is.
SKIP_HELPERS = _any(
    r"hwrng_unregister",
    r"i2c_del_adapter",
    r"__unregister_client",
    r"device_for_each_child",
    r"rollback_registered",
    r"unregister_netdev",
    r"device_remove_file",
    r"tty_unregister_device",
    r"dummy_urb_enqueue",
    r"usb_kill_urb",
    r"usb_kill_anchored_urbs",
    r"usb_control_msg",
    r"usb_hcd_submit_urb",
    r"usb_submit_urb",
    r"^complete$",
    r"wait_for_completion",
    r"kfree_skb",
    r"(?:read|write)[bwlq]$",
    r"logic_(?:in|out)",
    r"^crc\d+",
    r"crc_itu_t",
    r"assertfail",
    r"^iput$",
    r"^iput_final$",
    r"^ihold$",
    r"hex_dump_to_buffer",
    r"print_hex_dump",
    r"^klist_",
    r"^(?:un)?lock_page",
    r"stack_trace_consume_entry",
    r"arch_stack_walk",
    r"stack_trace_save",
    r"insert_work",
    r"__queue_delayed_work",
    r"queue_delayed_work_on",
    r"ida_free",
    r"do_(?:kernel|translation)_fault",  # arm64's translation fault path
    r"do_mem_abort",
    r"el1_abort",
    r"el1h_64_sync",
    r"print_tainted",
    r"^get_taint$",
    r"xas_(?:start|load|find)",
    r"find_lock_entries",
    r"truncate_inode_pages_range",
    r"__phys_addr",
    r"__fortify_report",
    r"cleanup_srcu_struct",
    r"rhashtable_lookup",
    r"extract_(?:user|iter)_to_sg",
    r"drop_nlink",
    r"^put_device$",
    r"lock_timer_base",
    r"__timer_delete_sync",
    r"sk_stop_timer_sync",
    r"__mod_timer",
    r"dput",
    r"^copy(?:in|out)$",
    r"seqprop_assert",
    r"__alloc_frozen_pages",
    r"string",  # vsprintf's string(), hex_string(), pointer()...
    r"pointer",
)
SKIP_ALWAYS = re.compile(
    "|".join(
        (
            SKIP_REPORTING,
            SKIP_HELPERS,
            SKIP_SANITIZERS,
            SKIP_LOCKING,
            SKIP_ALLOCATOR,
            SKIP_PRINTK,
            SKIP_LIST_DEBUG,
            SKIP_SCHEDULER,
            SKIP_LIBRARY,
            SKIP_WORK,
        )
    )
)
# A function a sanitizer's header names, or the faulting instruction of a
# page fault or general protection fault, is where the bad access happened.
# The helpers of every subsystem are passed over there as anywhere (syzbot:
# "KASAN: use-after-free Read in bcsp_close" for a header in kfree_skb), but
# not the reporting code (a KMSAN report in show_trace_log_lvl is about it),
# and a sanitizer's own runtime only by prefix (not any name with "kmsan").
# The lock core is passed over too: a bad lock pointer faults in
# __lock_acquire, and the caller that passed it is named (syzkaller's skip
# list has lock_acquire; "general protection fault in sg_remove_request",
# testdata 162). With no other frame printed, the function a sanitizer's
# header names is still named, unless a sanitizer's runtime or a thunk
# (NEVER_NAMED; testdata 15: KASAN in memcpy); a faulting instruction only
# if in the lock core (LOCK_CORE; testdata 20: __lock_acquire): a string
# helper's fault with no caller is "in corrupted" (testdata 0: __memset).
LOCK_CORE = re.compile(r"lock_acquire|lock_release")
NEVER_NAMED = re.compile(
    "|".join(
        (
            r"^(?:__)?(?:asan|kasan|hwasan|msan|kmsan|kcsan|ubsan|kfence)_",
            r"^__(?:asan|msan|tsan|sanitizer|ubsan_handle)",
            r"^check_memory_region",
            r"_indirect_thunk_",
        )
    )
)
SKIP_HEADER = re.compile(
    "|".join(
        (
            NEVER_NAMED.pattern,
            SKIP_HELPERS,
            SKIP_LOCKING,
            SKIP_ALLOCATOR,
            SKIP_PRINTK,
            SKIP_LIST_DEBUG,
            SKIP_SCHEDULER,
            SKIP_LIBRARY,
            SKIP_WORK,
        )
    )
)  # Frames of the interrupt that reported a stall or lockup, and the spinning itself.
SKIP_STALL = re.compile(
    _any(
        r"apic_timer_interrupt",
        r"^rcu",
        r"^sysvec_",
        r"^asm_sysvec_",
        r"^__sysvec_",
        r"hrtimer(?!_run)",  # the timer interrupt's own; hrtimer_run_* dispatch callbacks
        r"^tick_",
        r"update_process_times",
        r"watchdog_timer_fn",
        r"^irq_exit",
        r"^__irq_exit",
        r"^delay_tsc$",
        r"^delay_loop$",
        r"^__const_udelay$",
        r"^__udelay$",
        r"^__delay$",
        r"^native_safe_halt$",
        r"cpu_relax",
    )
)
# Dispatching frames: a stall's guilty frame is the one just above the first of them.
STALL_ANCHORS = re.compile(
    _any(
        r"process_one_work",
        r"process_scheduled_works",
        r"do_syscall_",
        r"do_fast_syscall_",
        r"^entry_SYSCALL",
        r"sysenter_dispatch",
        r"tracesys_phase2",
        r"^invoke_syscall",
        r"^el0_svc",
        r"netif_receive_skb",
        r"do_softirq",
        r"call_timer_fn",
        r"_run_timers",
        r"run_timer_softirq",
        r"run_ksoftirqd",
        r"smpboot_thread_fn",
        r"^kthread$",
        r"start_secondary",
        r"cpu_startup_entry",
        r"ret_from_fork",
        r"^(?:__)?vfs_write",
        r"^(?:__)?vfs_read",
        r"^vfs_iter_(?:read|write)",
        r"^do_iter_(?:read|write)",
        r"vfs_ioctl",
        r"^ksys_ioctl",
        r"compat_(?:sys|SyS)_ioctl",
        r"blkdev_(?:driver_)?ioctl",
        r"^call_(?:read|write)_iter",
        r"do_iter_readv_writev",
        r"^call_mmap",
        r"mmap_region",
        r"^do_mmap",
        r"do_dentry_open",
        r"^vfs_open",
        r"^sock_(?:sendmsg|recvmsg|release|mmap|do_ioctl|ioctl)",
        r"^__sock_release",
        r"__sys_setsockopt",
        r"kernel_setsockopt",
        r"sock_common_setsockopt",
        r"__sys_listen",
        r"kernel_listen",
        r"sk_common_release",
        r"__sys_accept",
        r"kernel_accept",
        r"^compat_sock_ioctl",
        r"^nfnetlink_rcv_msg",
        r"^(?:compat_)?(?:SYSC|SyS|__sys|___sys|__do_sys|__se_sys|__x64_sys)_"
        r"(?:socketpair|connect|ioctl)",
        r"__do_fault",
        r"^do_page_fault",
        r"^page_fault$",
        r"__fput",
        r"task_work_run",
        r"exit_to_usermode",
        r"smp_call_function",
        # syzkaller's linuxStallAnchorFrames besides
        r"hrtimer_run",
        r"ret_fast_syscall",
        r"^rtnetlink_rcv_msg",
        r"^netlink_dump",
        r"tasklet_action",
        r"tasklet_hi_action",
        r"new_sync_(?:read|write)",
        r"compat_ioctl",
    )
)
SYSCALL_PREFIXES = (
    "SYSC_",
    "SyS_",
    "sys_",
    "__x64_",
    "__ia32_",
    "__arm64_",
    "____sys_",
    "___sys_",
    "__sys_",
    "__se_",
    "__se_sys_",
    "__do_sys_",
    "compat_SYSC_",
    "compat_SyS_",
    "ksys_",
)
# A hung task waiting in one of these (anywhere in a frame's name) is in a bucket
# that many victims share; None: the frame itself (syzkaller's hang extractor).
HUNG_BUCKETS: dict[str, str | None] = {
    "rtnl_lock": None,
    "synchronize_rcu": "synchronize_rcu",
    "synchronize_srcu": "synchronize_rcu",
    "synchronize_net": "synchronize_rcu",
    "synchronize_sched": "synchronize_rcu",
}
SKIP_HUNG = re.compile(
    _any(
        r"sched",
        r"_lock",
        r"_slowlock",
        r"down",
        r"completion",
        r"kthread",
        r"wait",
        r"synchronize",
        r"context_switch",
        r"__switch_to",
        r"cancel_delayed_work",
        r"rwsem",
        r"rcu_barrier",
        r"msleep",
    )
)

_SUFFIX = re.compile(
    r"(?:\.(?:isra|constprop|part|cold|lto_priv|llvm|clone|localalias)(?:\.\d+)*)+$"
)


def plain(function: str) -> str:
    """A function name without compiler suffixes (``.isra.0``, ``.cold``...)."""
    return _SUFFIX.sub("", function)


def strip_syscall_prefix(function: str) -> str:
    """The syscall a syscall-entry symbol is for: the shortest name left by
    one of the prefixes (``__se_sys_memfd_secret`` is ``memfd_secret``, not
    ``sys_memfd_secret``; ``__x64_sys_ioctl`` is ``sys_ioctl``, as syzbot has it)."""
    best = function
    for prefix in SYSCALL_PREFIXES:
        if function.startswith(prefix) and len(function) - len(prefix) < len(best):
            best = function[len(prefix) :]
    return best


@dataclass(frozen=True)
class ReportFormat:
    """One kind of report, as the kernel prints it.

    header: the line that starts it, matched where it begins in the line (any
        text may be glued before it); named groups fill fields and titles.
    titles: title templates; the first whose fields are all known is used.
    sources, skip, pick: where the guilty function comes from, which frames
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
    function_re: the guilty function in a body line (Source.BODY, LOCK_AT).
    message_after_header: the line right after the header is the message.
    body_message: the first body line is the message (UBSAN).
    corrupted: the title itself says the report's cause was missed (a
        ``Fatal exception`` panic with no oops before it).
    rip_guilty: the faulting instruction (RIP:, IP:, pc) is guilty whatever
        subsystem it is in, unless a sanitizer or string helper (page faults,
        general protection faults: the access that faulted happened there).
    section: the section line whose stack Source.SECTION reads.
    """

    kind: str
    header: re.Pattern[str]
    titles: tuple[str, ...]
    sources: tuple[Source, ...] = (Source.RIP, Source.TRACE)
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
    sources: tuple[Source, ...] = (Source.RIP, Source.TRACE)
    skip: re.Pattern[str] | None = None
    pick: Pick = Pick.FIRST


ANY = re.compile(r"")  # a body/tail that accepts every line
END_TRACE = re.compile(r"^---\[ end trace\b")
END_PANIC = re.compile(r"^---\[ end Kernel panic\b")
# "at: [<c036a6dc>]     f+0x108/0x134": 3.x printed %pS after padded spaces (testdata 32)
LOCK_AT = re.compile(r"\bat: (?:\[<[0-9a-f]+>\]\s+)?" + FUNC + r"\+0x")
# print_ip_sym(): "[<ffffffff834dea24>] f+0x../0x.."
LOCK_IP = re.compile(r"^\s*\[<?(?:0x)?[0-9a-f]+>?\]\s+" + FUNC + r"\+0x")
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
MIGHT_SLEEP_BODY = re.compile(
    r"^(?:in_atomic\(\)|preempt_count:|RCU nest depth:|\d+ locks? held by|\s+#\d+: |"
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
WQ_FUNCTION = re.compile(r"^\s+in-flight: \d+(?:\(\w+\))?:" + FUNC)
WQ_PWQ = re.compile(r"^\s+pwq \d+: cpus=(?P<cpus>\S+)")
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
    "sources": (Source.LOCK_AT, Source.TRACE),
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
        **{**_LOCKDEP, "sources": (Source.LOCK_CHAIN,)},
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
        **{**_LOCKDEP, "sources": (Source.SECTION, Source.LOCK_AT, Source.TRACE)},
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
        **{**_LOCKDEP, "sources": (Source.LOCK_IP, Source.TRACE)},
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
        sources=(Source.TRACE,),
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
        **{**_LOCKDEP, "sources": (Source.TRACE,)},
        skip=re.compile(r"lock_sock|release_sock"),
    ),
    _row(
        "LOCKDEP",
        r"INFO: trying to register non-static key",
        "INFO: trying to register non-static key in {function}",
        "INFO: trying to register non-static key",
        sources=(Source.TRACE,),
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
        + r"|\(\))"
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
    _row(
        "KASAN",
        r"BUG: KASAN: (?:double-free or invalid-free|invalid-free|double-free)(?P<bug2>)"
        r"(?: in " + FUNC + r"(?:" + OFFSETS + r")?)?",
        "KASAN: {freebug} in {function}",
        "KASAN: {freebug}",
        sources=(Source.HEADER, Source.TRACE),
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
        sources=(Source.HEADER, Source.TRACE),
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
        sources=(Source.HEADER, Source.TRACE),
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
        sources=(Source.HEADER,),
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
        sources=(Source.HEADER, Source.TRACE),
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
        sources=(Source.TRACE,),
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
        sources=(Source.BACKTRACE,),
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
        sources=(Source.TRACE,),
        skip=re.compile(r"^schedule|^__schedule|^do_nanosleep|^io_schedule|sleep|wait"),
        body=MIGHT_SLEEP_BODY,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "BUG",
        r"BUG: sleeping function called from invalid context at (?P<location>\S+)",
        "BUG: sleeping function called from invalid context in {function}",
        "BUG: sleeping function called from invalid context",
        sources=(Source.TRACE,),
        body=MIGHT_SLEEP_BODY,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "BUG",
        r"BUG: using (?P<what>__this_cpu_\w+\(\)|smp_processor_id\(\)) in preemptible",
        "BUG: using {what} in preemptible code in {function}",
        "BUG: using {what} in preemptible code",
        sources=(Source.TRACE,),
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
        sources=(Source.TRACE,),
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
        sources=(Source.FROM_RIP,),
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
        sources=(Source.BODY,),
        function_re=WQ_FUNCTION,
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
        sources=(Source.BODY,),
        function_re=re.compile(r"^\s+(?:last function: |preempt=.* workfn=)" + FUNC),
        body=ANY,
        trace=False,
        complete="header",
    ),
    _row(
        "BUG",
        r"BUG: stack guard page was hit at",
        "BUG: stack guard page was hit in {function}",
        "BUG: stack guard page was hit",
        sources=(Source.RIP,),
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
        sources=(Source.TRACE,),
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
        sources=(Source.SECTION,),
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
        sources=(Source.TRACE,),
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
        sources=(Source.HEADER,),
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
        r"kernel stack overflow \(double-fault\))(?:: [0-9a-f]{4}| \[#\d+\]|:)",
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
        sources=(Source.RIP,),
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
        sources=(Source.HEADER, Source.TRACE),
        skip=re.compile(r"stack_chk"),
        end=END_PANIC,
    ),
    _row(
        "PANIC",
        r"Kernel panic - not syncing: corrupted stack end detected inside scheduler",
        "kernel panic: corrupted stack end in {function}",
        "kernel panic: corrupted stack end",
        sources=(Source.TRACE,),
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
        sources=(Source.TRACE,),
        end=END_PANIC,
        corrupted=True,
    ),
    # drivers/tty/tty_ldisc.c: "Couldn't open N_TTY ldisc for %s --- error %d."
    _row(
        "PANIC",
        r"Kernel panic - not syncing: Couldn't open N_TTY ldisc",
        "kernel panic: Couldn't open N_TTY ldisc",
        sources=(Source.TRACE,),
        end=END_PANIC,
    ),
    _row(
        "PANIC",
        r"Kernel panic - not syncing: (?P<message>.*?)\s*$",
        "kernel panic: {message}",
        sources=(Source.TRACE,),
        skip=re.compile(r"sysrq_handle_|__handle_sysrq|write_sysrq_trigger"),
        end=END_PANIC,
    ),
    # -- watchdogs (kernel/watchdog*.c, kernel/rcu/tree_stall.h, kernel/hung_task.c)
    _row(
        "HARD_LOCKUP",
        r"Watchdog detected hard LOCKUP on cpu (?P<cpu>\d+)",
        "watchdog detected hard LOCKUP in {function}",
        "watchdog detected hard LOCKUP",
        sources=(Source.TASK,),
        pick=Pick.STALL,
        tail=BACKTRACE_TAIL,
        absorbs=REPORT_ABSORBS,
    ),
    _row(
        "RCU_STALL",
        r"INFO: (?P<flavor>[\w-]+) (?:self-)?detected (?:expedited )?stalls?\b",
        "INFO: rcu detected stall in {function}",
        "INFO: rcu detected stall",
        sources=(Source.TASK,),
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
        sources=(Source.TRACE,),
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
        sources=(Source.TRACE,),
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
        sources=(Source.TASK,),
        pick=Pick.STALL,
    ),
)

# Every header keyword, to find a header anywhere in a line with one search.
# test_the_header_hint_finds_every_rows_header checks it against every row of FORMATS.
HEADER_HINT = re.compile(
    r"WARNING:|BUG[: ]|INFO:|\[ INFO:|\[ BUG:|kernel BUG|Kernel BUG|Kernel panic|"
    r"general protection|segment-related|Oops|Internal error|divide error|invalid opcode|"
    r"stack segment|double fault|int3(?::| \[#)|alignment check|bounds(?::| \[#)|invalid TSS|"
    r"segment not present|kernel stack overflow|PANIC: double|Unable to handle kernel|UBSAN:|"
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
