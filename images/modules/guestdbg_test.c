// SPDX-License-Identifier: GPL-2.0
/*
 * guestdbg_test - the guest-side half of the guestdbg suite.
 *
 * 1. A kthread ("guestdbg_hot") calls the noinline guestdbg_tick(n) in a loop
 *    with n = 1, 2, 3, ...; guestdbg_tick stores n in guestdbg_counter.
 *    A breakpoint on guestdbg_tick therefore sees the call number in RDI,
 *    and the counter (also /sys/module/guestdbg_test/parameters/counter)
 *    proves forward progress between two hits.
 * 2. guestdbg_work() is a few thousand instructions of arithmetic that the
 *    kthread runs with interrupts enabled: the single-step target.
 * 3. Writing to /sys/module/guestdbg_test/parameters/trigger makes the
 *    kernel misbehave on purpose, so every console report the suite parses
 *    has a positive control on a real guest:
 *      tf            set EFLAGS.TF in kernel mode (the TF-leak WARN in exc_debug)
 *      warn          WARN_ON(1)
 *      oops          NULL pointer dereference
 *      bug           BUG_ON(1)
 *      spin:S        busy-wait S seconds with preemption disabled
 *                    (soft lockup, RCU stall)
 *      spin_irqoff:S busy-wait S seconds with interrupts disabled (hard lockup)
 *      hung:S        sleep S seconds in TASK_UNINTERRUPTIBLE (hung task)
 *      panic         panic()
 *      gpf           write to a non-canonical address (general protection fault)
 *      pagefault     read an unmapped direct-map address (page fault oops)
 *      refcount      drop a reference that is not held (refcount_t underflow WARN)
 *      listdel       list_del() the same entry twice (CONFIG_DEBUG_LIST corruption)
 *      sched_atomic  sleep with softirqs disabled (BUG: scheduling while atomic)
 *    and, for the sanitizers of the "debug" kernel (images/kernel/guestdbg-debug.config;
 *    on other kernels they misbehave without a report, so use them there only):
 *      uaf           read a kmalloc()ed object after kfree() (KASAN use-after-free)
 *      double_free   kfree() an object twice (KASAN double-free)
 *      ubsan_shift   shift an int by 40 (UBSAN shift-out-of-bounds)
 *      ubsan_index   index an int[4] with 4 (UBSAN array-index-out-of-bounds)
 *      lockdep       take two mutexes in both orders (lockdep circular dependency)
 *      might_sleep   mutex_lock() under a spinlock (sleeping function called from
 *                    invalid context)
 *      rcu           rcu_dereference() outside an RCU read-side section (suspicious
 *                    RCU usage)
 *      leak          kmalloc() an object and drop the pointer (kmemleak, once scanned)
 *    and, to test the command protocol under kernel output:
 *      flood:S       kernel messages as fast as the console takes them, for S seconds
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/bottom_half.h>
#include <linux/list.h>
#include <linux/preempt.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/rcupdate.h>

static unsigned long guestdbg_counter;
module_param_named(counter, guestdbg_counter, ulong, 0444);
MODULE_PARM_DESC(counter, "call number of the last guestdbg_tick()");

static unsigned int period_us = 1000;
module_param(period_us, uint, 0644);
MODULE_PARM_DESC(period_us, "sleep between two ticks of the hot loop, in microseconds");

static bool hot = true;
module_param(hot, bool, 0444);
MODULE_PARM_DESC(hot, "start the guestdbg_hot kthread at load");

/* QMP inject-nmi reaches the monitor's default CPU (0): scenarios that
 * inject NMIs at the hot loop bind it there. */
static int hot_cpu = -1;
module_param(hot_cpu, int, 0444);
MODULE_PARM_DESC(hot_cpu, "bind the guestdbg_hot kthread to this CPU (-1: any)");

static unsigned long guestdbg_work_result;

/*
 * Global (not static) so that gdb, kallsyms and lx-symbols see them by these
 * names and guestdbg_tick can be exported. Since 6.8 ("Makefile.extrawarn:
 * turn on missing-prototypes globally") and with CONFIG_WERROR in
 * x86_64_defconfig, a global function without a prototype fails the build:
 * hence the declarations here.
 */
void guestdbg_tick(unsigned long n);
unsigned long guestdbg_work(unsigned long seed);
void guestdbg_set_tf(void);

noinline void guestdbg_tick(unsigned long n)
{
	WRITE_ONCE(guestdbg_counter, n);
}
EXPORT_SYMBOL_GPL(guestdbg_tick);

noinline unsigned long guestdbg_work(unsigned long seed)
{
	unsigned long x = seed | 1;
	int i;

	for (i = 0; i < 500; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		barrier();
	}
	return x;
}

static int guestdbg_hot_fn(void *unused)
{
	unsigned long n = 0;

	while (!kthread_should_stop()) {
		guestdbg_tick(++n);
		guestdbg_work_result = guestdbg_work(n);
		usleep_range(period_us, period_us + 100);
	}
	return 0;
}

static struct task_struct *hot_task;

noinline void guestdbg_set_tf(void)
{
	/* The kernel never single-steps itself outside kprobes/kgdb; TF set here
	 * is exactly what a host leaking its single-step flag looks like. */
	asm volatile("pushf\n\t"
		     "orq $0x100, (%%rsp)\n\t"
		     "popf\n\t"
		     "nop\n\t"
		     ::: "memory", "cc");
}

static DEFINE_MUTEX(guestdbg_mutex_a);
static DEFINE_MUTEX(guestdbg_mutex_b);
static DEFINE_SPINLOCK(guestdbg_spinlock);
static int __rcu *guestdbg_rcu_ptr;

struct guestdbg_bounds {
	int a[4];
	int b;	/* a[4] lands here: UBSAN's report, not KASAN's */
};

static void busy_wait_seconds(unsigned int s)
{
	unsigned int ms;

	for (ms = 0; ms < s * 1000; ms++)
		mdelay(1);
}

/* flood:S -- kernel messages as fast as the console takes them, for S seconds,
 * from a kthread (the trigger returns at once): commands run meanwhile. */
static struct task_struct *flood_task;
static unsigned int flood_secs;

static int guestdbg_flood_fn(void *unused)
{
	unsigned long end = jiffies + flood_secs * HZ;
	unsigned long n = 0;

	while (!kthread_should_stop() && time_before(jiffies, end)) {
		pr_info("guestdbg_test: flood %lu\n", n++);
		usleep_range(200, 400);
	}
	pr_info("guestdbg_test: flood done after %lu messages\n", n);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int trigger_set(const char *val, const struct kernel_param *kp)
{
	char cmd[32];
	unsigned int secs = 0;
	char *arg;

	strscpy(cmd, val, sizeof(cmd));
	strim(cmd);
	arg = strchr(cmd, ':');
	if (arg) {
		*arg++ = '\0';
		if (kstrtouint(arg, 10, &secs))
			return -EINVAL;
	}
	pr_info("guestdbg_test: trigger %s%s%s\n", cmd, arg ? ":" : "", arg ? arg : "");

	if (!strcmp(cmd, "tf")) {
		guestdbg_set_tf();
	} else if (!strcmp(cmd, "warn")) {
		WARN_ON(1);
	} else if (!strcmp(cmd, "oops")) {
		*(volatile int *)NULL = 1;
	} else if (!strcmp(cmd, "bug")) {
		BUG_ON(1);
	} else if (!strcmp(cmd, "spin")) {
		preempt_disable();
		busy_wait_seconds(secs);
		preempt_enable();
	} else if (!strcmp(cmd, "spin_irqoff")) {
		local_irq_disable();
		busy_wait_seconds(secs);
		local_irq_enable();
	} else if (!strcmp(cmd, "hung")) {
		schedule_timeout_uninterruptible(secs * HZ);
	} else if (!strcmp(cmd, "panic")) {
		panic("guestdbg_test: panic on request");
	} else if (!strcmp(cmd, "gpf")) {
		/* LIST_POISON1: non-canonical, so #GP rather than #PF */
		*(volatile unsigned long *)0xdead000000000100UL = 1;
	} else if (!strcmp(cmd, "pagefault")) {
		/* 4 GiB into the direct map: beyond this guest's RAM, not mapped */
		(void)*(volatile unsigned long *)(PAGE_OFFSET + (4UL << 30));
	} else if (!strcmp(cmd, "refcount")) {
		refcount_t ref = REFCOUNT_INIT(0);

		if (refcount_dec_and_test(&ref))
			pr_info("guestdbg_test: refcount reached zero\n");
	} else if (!strcmp(cmd, "listdel")) {
		LIST_HEAD(head);
		struct list_head entry;

		list_add(&entry, &head);
		list_del(&entry);
		list_del(&entry);
	} else if (!strcmp(cmd, "sched_atomic")) {
		local_bh_disable();
		schedule_timeout_uninterruptible(1);
		/* __schedule_bug() reset the count it complained about */
		__preempt_count_add(SOFTIRQ_DISABLE_OFFSET);
		local_bh_enable();
	} else if (!strcmp(cmd, "uaf")) {
		char *p = kmalloc(64, GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		kfree(p);
		OPTIMIZER_HIDE_VAR(p);
		pr_info("guestdbg_test: read %d after free\n", READ_ONCE(p[8]));
	} else if (!strcmp(cmd, "double_free")) {
		char *p = kmalloc(64, GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		kfree(p);
		OPTIMIZER_HIDE_VAR(p);
		kfree(p);
	} else if (!strcmp(cmd, "ubsan_shift")) {
		volatile int by = 40;

		pr_info("guestdbg_test: shifted %d\n", 1 << by);
	} else if (!strcmp(cmd, "ubsan_index")) {
		static struct guestdbg_bounds bounds;
		volatile int i = 4;

		pr_info("guestdbg_test: indexed %d\n", bounds.a[i]);
	} else if (!strcmp(cmd, "lockdep")) {
		mutex_lock(&guestdbg_mutex_a);
		mutex_lock(&guestdbg_mutex_b);
		mutex_unlock(&guestdbg_mutex_b);
		mutex_unlock(&guestdbg_mutex_a);
		mutex_lock(&guestdbg_mutex_b);
		mutex_lock(&guestdbg_mutex_a);
		mutex_unlock(&guestdbg_mutex_a);
		mutex_unlock(&guestdbg_mutex_b);
	} else if (!strcmp(cmd, "might_sleep")) {
		spin_lock(&guestdbg_spinlock);
		mutex_lock(&guestdbg_mutex_a);
		mutex_unlock(&guestdbg_mutex_a);
		spin_unlock(&guestdbg_spinlock);
	} else if (!strcmp(cmd, "rcu")) {
		pr_info("guestdbg_test: rcu pointer %px\n", rcu_dereference(guestdbg_rcu_ptr));
	} else if (!strcmp(cmd, "leak")) {
		char *p = kmalloc(128, GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		memset(p, 0x5a, 128);
		OPTIMIZER_HIDE_VAR(p);
		p = NULL;
	} else if (!strcmp(cmd, "flood")) {
		if (flood_task)
			kthread_stop(flood_task);
		flood_secs = secs;
		flood_task = kthread_run(guestdbg_flood_fn, NULL, "guestdbg_flood");
		if (IS_ERR(flood_task)) {
			int err = PTR_ERR(flood_task);

			flood_task = NULL;
			return err;
		}
	} else {
		return -EINVAL;
	}
	return 0;
}

static const struct kernel_param_ops trigger_ops = {
	.set = trigger_set,
};
module_param_cb(trigger, &trigger_ops, NULL, 0200);
MODULE_PARM_DESC(trigger, "tf|warn|oops|bug|spin:S|spin_irqoff:S|hung:S|panic|gpf|pagefault|"
		 "refcount|listdel|sched_atomic|uaf|double_free|ubsan_shift|ubsan_index|lockdep|"
		 "might_sleep|rcu|leak|flood:S");

static int __init guestdbg_test_init(void)
{
	if (hot) {
		hot_task = kthread_create(guestdbg_hot_fn, NULL, "guestdbg_hot");
		if (IS_ERR(hot_task))
			return PTR_ERR(hot_task);
		if (hot_cpu >= 0 && cpu_online(hot_cpu))
			kthread_bind(hot_task, hot_cpu);
		wake_up_process(hot_task);
	}
	pr_info("guestdbg_test: loaded, hot=%d hot_cpu=%d period_us=%u\n", hot, hot_cpu,
		period_us);
	return 0;
}

static void __exit guestdbg_test_exit(void)
{
	if (hot_task)
		kthread_stop(hot_task);
	if (flood_task)
		kthread_stop(flood_task);
	pr_info("guestdbg_test: unloaded at counter=%lu\n", guestdbg_counter);
}

module_init(guestdbg_test_init);
module_exit(guestdbg_test_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("guestdbg breakpoint targets and misbehaviour triggers");
