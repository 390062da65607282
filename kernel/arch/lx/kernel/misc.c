// SPDX-License-Identifier: GPL-2.0
/* misc.c - user pointer checks and the rest of what generic code asks. */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/debug.h>
#include <linux/printk.h>
#include <linux/uaccess.h>
#include <linux/console.h>
#include <asm/sections.h>
#include <asm/lx.h>

static bool overlaps(unsigned long addr, unsigned long size,
		     unsigned long start, unsigned long end)
{
	return addr < end && addr + size > start;
}

#define NR_OWN 4

struct area {
	unsigned long start, end;
};

/* lx's own memory, which no user range may overlap */
static void own_areas(struct area a[NR_OWN])
{
	a[0] = (struct area){ memory_start, memory_end };
	a[1] = (struct area){ (unsigned long)_stext, (unsigned long)_etext };
	a[2] = (struct area){ (unsigned long)__start_rodata,
			      (unsigned long)__end_rodata };
	a[3] = (struct area){ (unsigned long)lx_data_start,
			      (unsigned long)lx_data_end };
}

/*
 * A user pointer may not reach the null page, the kernel's RAM or the
 * kernel image: a wild pointer from a program gets -EFAULT instead of
 * corrupting lx.
 */
int lx_access_ok(unsigned long addr, unsigned long size)
{
	struct area own[NR_OWN];
	int i;

	/* an orphan's user memory is gone: the home process's is not its */
	if (unlikely(current->thread.flags & LX_THREAD_ORPHAN))
		return 0;
	/* nothing is touched: any user address will do (write(fd, NULL, 0)) */
	if (!size)
		return addr <= TASK_SIZE;
	if (addr < PAGE_SIZE || size > TASK_SIZE || addr > TASK_SIZE - size)
		return 0;
	own_areas(own);
	for (i = 0; i < NR_OWN; i++)
		if (overlaps(addr, size, own[i].start, own[i].end))
			return 0;
	return 1;
}

/*
 * The bound of a user string read at addr, at most max: up to the first
 * of lx's areas above it.  The host maps a program's memory anywhere, a
 * stack right below kernel RAM too, and strncpy_from_user() checks its
 * whole bound (4064 bytes for a file name) with access_ok() first.
 */
unsigned long lx_user_string_max(unsigned long addr, unsigned long max)
{
	struct area own[NR_OWN];
	int i;

	own_areas(own);
	for (i = 0; i < NR_OWN; i++)
		if (own[i].start > addr && own[i].start - addr < max)
			max = own[i].start - addr;
	return max;
}

void show_regs(struct pt_regs *regs)
{
	show_regs_print_info(KERN_DEFAULT);
	pr_info("ip %016lx sp %016lx ax %016lx orig_ax %016lx\n", regs->ip,
		regs->sp, regs->ax, regs->orig_ax);
}

void panic_smp_self_stop(void)
{
	lx_host->panic("kernel panic");
	for (;;)
		;
}

/*
 * The boot console: the kernel log to the host (host/ adds "lxlog" to the
 * command line when there is a console device or LX_LOG is set), from the
 * first message until a real console (hvc0) takes over.  hvc0 cannot
 * replay the messages before it: its port is not yet findable while it
 * registers, as on a VM, where an early console fills the same gap.
 */
static bool lx_log;

static int __init lx_log_param(char *p)
{
	lx_log = true;
	return 0;
}
early_param("lxlog", lx_log_param);

static void lx_console_write(struct console *con, const char *str,
			     unsigned int len)
{
	lx_host->print(str, len);
}

/* enabled already: a console= for hvc0 must not keep it from starting */
static struct console lx_console = {
	.name = "lxcon",
	.write = lx_console_write,
	.flags = CON_PRINTBUFFER | CON_BOOT | CON_ENABLED,
	.index = -1,
};

static int __init lx_console_init(void)
{
	if (lx_log)
		register_console(&lx_console);
	return 0;
}
console_initcall(lx_console_init);
