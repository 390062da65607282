// SPDX-License-Identifier: GPL-2.0
/* misc.c - user pointer checks and the rest of what generic code asks. */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/debug.h>
#include <linux/printk.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/console.h>
#include <asm/sections.h>
#include <asm/lx.h>

#define NR_OWN 3

struct area {
	unsigned long start, end;
};

/*
 * lx's own memory, which no copy for a program may touch: kernel RAM, the
 * kernel's writable data and its code.  (Not its read-only data: in the
 * host program lx is linked into, the kernel's rodata sections are merged
 * with the program's and make no one range - __end_rodata is not where
 * they end - and a write to them faults anyway.)
 */
static void own_areas(struct area a[NR_OWN])
{
	a[0] = (struct area){ memory_start, memory_end };
	a[1] = (struct area){ (unsigned long)_stext, (unsigned long)_etext };
	a[2] = (struct area){ (unsigned long)lx_data_start,
			      (unsigned long)lx_data_end };
}

/*
 * How many of the size bytes at user address addr a copy may touch: those
 * below the first of lx's areas at or above addr, none if addr is in one.
 * To a program lx's memory is as unmapped memory is natively: a copy that
 * runs into it stops there (a short count, or -EFAULT), and a range that
 * merely overlaps it is fine (read() of 1 MiB into a buffer right below
 * kernel RAM, with 123 bytes left of the file, reads them).
 */
unsigned long lx_user_span(unsigned long addr, unsigned long size)
{
	struct area own[NR_OWN];
	int i;

	own_areas(own);
	for (i = 0; i < NR_OWN; i++) {
		if (addr >= own[i].start && addr < own[i].end)
			return 0;
		if (own[i].start > addr && own[i].start - addr < size)
			size = own[i].start - addr;
	}
	return size;
}

/*
 * User memory is the host's, with no struct pages to pin for I/O: an
 * O_DIRECT read() or write() goes through the page cache
 * (kernel/patches/0010, fs/read_write.c).
 */
bool arch_user_pages_pinnable(void)
{
	return false;
}

/*
 * The range check of a user pointer: not the null page, not beyond the
 * user range, not starting in lx's memory (a wild pointer into the kernel
 * gets -EFAULT, as a kernel address does natively).  The copies check the
 * rest (lx_user_span()).
 */
int lx_access_ok(unsigned long addr, unsigned long size)
{
	/* an orphan's user memory is gone: the home process's is not its */
	if (unlikely(current->thread.flags & LX_THREAD_ORPHAN))
		return 0;
	/* nothing is touched: any user address will do (write(fd, NULL, 0)) */
	if (!size)
		return addr <= TASK_SIZE;
	if (addr < PAGE_SIZE || size > TASK_SIZE || addr > TASK_SIZE - size)
		return 0;
	return lx_user_span(addr, 1) == 1;
}

unsigned long lx_copy_to_user(void __user *to, const void *from,
			      unsigned long n)
{
	unsigned long ok = lx_user_span((unsigned long)to, n);

	return lx_copy_user((void __force *)to, from, ok) + (n - ok);
}

unsigned long lx_copy_from_user(void *to, const void __user *from,
				unsigned long n)
{
	unsigned long ok = lx_user_span((unsigned long)from, n);

	return lx_copy_user(to, (const void __force *)from, ok) + (n - ok);
}

unsigned long lx_clear_to_user(void __user *to, unsigned long n)
{
	unsigned long ok = lx_user_span((unsigned long)to, n);

	return lx_clear_user((void __force *)to, ok) + (n - ok);
}

/*
 * The iovecs of what is left of a user-memory iterator, for the host to
 * read or write itself: at most n, none empty (an empty one would read as
 * the end of a file), ending where a segment runs into lx's memory (the
 * host must not touch it: a short count, as a fault gives natively).
 */
int lx_user_iovecs(const struct iov_iter *it, struct iovec *iov, int n)
{
	size_t left = iov_iter_count(it), skip = it->iov_offset;
	const struct iovec *seg, *segs = it->iov;
	unsigned long nsegs = it->nr_segs;
	struct iovec ubuf;
	int i = 0;

	if (iter_is_ubuf(it)) {
		ubuf.iov_base = it->ubuf;
		ubuf.iov_len = skip + left;
		segs = &ubuf;
		nsegs = 1;
	}
	for (seg = segs; i < n && seg < segs + nsegs && left; seg++, skip = 0) {
		unsigned long base = (unsigned long)seg->iov_base + skip;
		size_t len = min(left, seg->iov_len - skip), ok;

		if (!len)
			continue;
		ok = lx_user_span(base, len);
		if (ok) {
			iov[i].iov_base = (void __user *)base;
			iov[i++].iov_len = ok;
		}
		if (ok < len)
			break;
		left -= len;
	}
	return i;
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
