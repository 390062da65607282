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

/*
 * A user pointer may not reach the null page, the kernel's RAM or the
 * kernel image: a wild pointer from a program gets -EFAULT instead of
 * corrupting lx.
 */
int lx_access_ok(unsigned long addr, unsigned long size)
{
	if (addr < PAGE_SIZE || size > TASK_SIZE || addr > TASK_SIZE - size)
		return 0;
	if (overlaps(addr, size, memory_start, memory_end) ||
	    overlaps(addr, size, (unsigned long)_stext, (unsigned long)_etext) ||
	    overlaps(addr, size, (unsigned long)__start_rodata,
		     (unsigned long)__end_rodata) ||
	    overlaps(addr, size, (unsigned long)lx_data_start,
		     (unsigned long)lx_data_end))
		return 0;
	return 1;
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

/* The kernel log goes to the host; a console made before devices exist. */
static void lx_console_write(struct console *con, const char *str,
			     unsigned int len)
{
	lx_host->print(str, len);
}

static struct console lx_console = {
	.name = "lxcon",
	.write = lx_console_write,
	.flags = CON_PRINTBUFFER | CON_BOOT,
	.index = -1,
};

static int __init lx_console_init(void)
{
	register_console(&lx_console);
	return 0;
}
console_initcall(lx_console_init);
