// SPDX-License-Identifier: GPL-2.0
/*
 * ptrace.c - what generic ptrace and core dumps ask of the arch.  Tracers
 * see no register sets yet; the program runner owns the user registers.
 */
#include <linux/ptrace.h>
#include <linux/regset.h>
#include <linux/sched.h>
#include <linux/elf.h>
#include <linux/seq_file.h>
#include <linux/delay.h>
#include <linux/sched/clock.h>

static const struct user_regset_view lx_regset_view = {
	.name = "x86_64",
	.e_machine = EM_X86_64,
};

const struct user_regset_view *task_user_regset_view(struct task_struct *t)
{
	return &lx_regset_view;
}

long arch_ptrace(struct task_struct *child, long request, unsigned long addr,
		 unsigned long data)
{
	return ptrace_request(child, request, addr, data);
}

void ptrace_disable(struct task_struct *child)
{
}

void user_disable_single_step(struct task_struct *child)
{
}

void flush_thread(void)
{
}

void show_stack(struct task_struct *task, unsigned long *sp,
		const char *loglvl)
{
}

/* Busy waits on the host clock: a delay loop calibrates to nothing here. */
void __delay(unsigned long loops)
{
	u64 end = sched_clock() + loops;

	while (sched_clock() < end)
		cpu_relax();
}

void __udelay(unsigned long usecs)
{
	__delay(usecs * NSEC_PER_USEC);
}

void __ndelay(unsigned long nsecs)
{
	__delay(nsecs);
}

/* xloops is usecs * 2**32 / 10**6 (asm-generic/delay.h) */
void __const_udelay(unsigned long xloops)
{
	__delay((xloops * NSEC_PER_USEC * 1000000UL) >> 32);
}

static int cpuinfo_show(struct seq_file *m, void *v)
{
	seq_puts(m, "processor\t: 0\n"
		    "vendor_id\t: lx\n"
		    "model name\t: lx virtual CPU (x86_64)\n"
		    "cpu cores\t: 1\n\n");
	return 0;
}

static void *cpuinfo_start(struct seq_file *m, loff_t *pos)
{
	return *pos == 0 ? (void *)1 : NULL;
}

static void *cpuinfo_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return NULL;
}

static void cpuinfo_stop(struct seq_file *m, void *v)
{
}

const struct seq_operations cpuinfo_op = {
	.start = cpuinfo_start,
	.next = cpuinfo_next,
	.stop = cpuinfo_stop,
	.show = cpuinfo_show,
};
