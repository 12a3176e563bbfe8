"""Frames never guilty, grouped by why, and how a frame's name is compared.

A report's guilty function is the first frame of its stack that is not
reporting, sanitizer, locking, allocator, printk, list-debugging, scheduler,
library or workqueue machinery (syzkaller's skip lists in pkg/report's
linux.go, grouped here by subsystem); stalls and hung tasks have their own
lists (:data:`SKIP_STALL`, :data:`STALL_ANCHORS`, :data:`SKIP_HUNG`).
Patterns are searched in the function name with compiler suffixes removed
(:func:`plain`), as syzkaller's are.
"""

from __future__ import annotations

import re


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
