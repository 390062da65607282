// SPDX-License-Identifier: GPL-2.0
/*
 * signal.c - signal delivery at the exit of a system call.
 *
 * A caller of lx_syscall() has no user context to run a handler in: a
 * handled signal is taken, its handler is not run, and the call returns
 * -EINTR (or is restarted, for SA_RESTART), as if the handler had run and
 * returned.  Default actions are Linux's own.
 */
#include <linux/entry-common.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <asm/syscall.h>
#include <asm/unistd.h>

static void restart_after_handler(struct ksignal *ksig, struct pt_regs *regs)
{
	switch (regs->ax) {
	case -ERESTART_RESTARTBLOCK:
	case -ERESTARTNOHAND:
		regs->ax = -EINTR;
		break;
	case -ERESTARTSYS:
		if (!(ksig->ka.sa.sa_flags & SA_RESTART)) {
			regs->ax = -EINTR;
			break;
		}
		fallthrough;
	case -ERESTARTNOINTR:
		regs->ax = regs->orig_ax;
		regs->ip -= 2;
		break;
	}
}

void arch_do_signal_or_restart(struct pt_regs *regs)
{
	struct ksignal ksig;

	if (get_signal(&ksig)) {
		if (syscall_get_nr(current, regs) >= 0)
			restart_after_handler(&ksig, regs);
		return;
	}

	/* no handler: restart the interrupted call, as Linux does */
	if (syscall_get_nr(current, regs) >= 0) {
		switch (regs->ax) {
		case -ERESTARTNOHAND:
		case -ERESTARTSYS:
		case -ERESTARTNOINTR:
			regs->ax = regs->orig_ax;
			regs->ip -= 2;
			break;
		case -ERESTART_RESTARTBLOCK:
			regs->ax = __NR_restart_syscall;
			regs->ip -= 2;
			break;
		}
	}
	restore_saved_sigmask();
}

SYSCALL_DEFINE0(rt_sigreturn)
{
	return -ENOSYS;
}
