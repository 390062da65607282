// SPDX-License-Identifier: GPL-2.0
/*
 * futex.c - programs' futex words are the host's.
 *
 * A program's futex word is in its own host memory, and its threads wait
 * for it with the host's futex (guest/): a contended lock needs no CPU of
 * lx's, and processes that share memory (MAP_SHARED) or not (forks of one
 * address) key their waits as Linux would.  What stays here: the kernel's
 * own wakes of user words - a child tid cleared at a thread's exit, a
 * dead owner's robust list - which must reach those host waiters too, and
 * turning a kicked host wait into an interrupted futex call.  PI futexes
 * (their words hold lx's tids) are served by the kernel's futex code.
 */
#include <linux/futex.h>
#include <linux/sched/signal.h>
#include <linux/syscalls.h>
#include <asm/lx.h>

void arch_futex_wake_user(u32 __user *uaddr, unsigned int flags, int nr_wake,
			  u32 bitset)
{
	/* nommu's FLAGS_SHARED is 0: private and shared waiters alike */
	lx_host->user_futex_wake(uaddr, nr_wake, bitset);
}

/*
 * LX_SYS_FUTEX_INTR, LX_SYS_FUTEX_WAITV_INTR (include/lx/host_ops.h): the
 * registers are the program's futex (or futex_waitv) call; nr is the call
 * it becomes.
 */
long lx_sys_futex_intr(struct pt_regs *regs, long nr)
{
	u32 cmd = regs->si & FUTEX_CMD_MASK;

	if (!signal_pending(current))
		return 0;
	regs->orig_ax = nr;
	if (nr == __NR_futex && regs->r10 &&
	    (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET))
		return -ERESTARTNOHAND;
	return -ERESTARTSYS;
}
