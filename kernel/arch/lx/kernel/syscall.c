// SPDX-License-Identifier: GPL-2.0
/*
 * syscall.c - system calls from host threads.
 *
 * The table is x86-64's (arch/x86/entry/syscalls/syscall_64.tbl) and
 * entry and exit go through the generic entry code, so seccomp, signals,
 * task work and restarts are Linux's own.
 */
#include <linux/entry-common.h>
#include <linux/err.h>
#include <linux/sched/task.h>
#include <linux/syscalls.h>
#include <asm/syscall.h>
#include <asm/unistd.h>
#include <asm/lx.h>

/* x86-only calls: no I/O ports, no LDT. */
SYSCALL_DEFINE3(iopl, unsigned int, level, int, a, int, b)
{
	return -ENOSYS;
}

SYSCALL_DEFINE3(ioperm, unsigned long, from, unsigned long, num, int, on)
{
	return -ENOSYS;
}

SYSCALL_DEFINE3(modify_ldt, int, func, void __user *, ptr,
		unsigned long, bytecount)
{
	return -ENOSYS;
}

/*
 * Memory and the FS/GS bases belong to the program runner (guest/), which
 * serves these calls with host calls before they reach the kernel.
 */
SYSCALL_DEFINE6(mmap, unsigned long, addr, unsigned long, len,
		unsigned long, prot, unsigned long, flags, unsigned long, fd,
		unsigned long, off)
{
	if (off & ~PAGE_MASK)
		return -EINVAL;
	return ksys_mmap_pgoff(addr, len, prot, flags, fd, off >> PAGE_SHIFT);
}

SYSCALL_DEFINE2(arch_prctl, int, option, unsigned long, arg2)
{
	return -EINVAL;
}

static struct task_struct *anchor_of_this_process(void)
{
	return *(struct task_struct **)lx_host->anchor;
}

/*
 * The calling host thread's task, made on its first call.  The CPU is not
 * held on return.  Tasks of new threads of a process are made one at a
 * time: they all start from the process's anchor.
 */
struct task_struct *lx_this_task(void)
{
	struct task_struct *t = lx_host->task_get();

	if (likely(t))
		return t;
	lx_host->task_create_lock(1);
	lx_cpu_take();
	t = lx_task_create(anchor_of_this_process(),
			   CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			   CLONE_THREAD | CLONE_SYSVSEM);
	if (IS_ERR(t)) {
		lx_cpu_release();
	} else {
		lx_host->task_set(t);
		lx_task_leave();
	}
	lx_host->task_create_lock(0);
	return t;
}

/*
 * A caller without user context (lx_syscall()) passes ip == LX_PLAIN_IP;
 * a restart rewinds ip by the length of a syscall instruction, and the
 * call is then made again here.
 */
#define LX_PLAIN_IP 2

/*
 * A pt_regs copy in 21 moves: as a struct copy it is a rep movsq, whose
 * start-up costs more than the rest of a getppid on some CPUs.
 */
static __always_inline void regs_copy(struct pt_regs *to,
				      const struct pt_regs *from)
{
	const unsigned long *s = (const unsigned long *)from;
	unsigned long *d = (unsigned long *)to;
	unsigned int i;

#pragma GCC unroll 32
	for (i = 0; i < sizeof(*from) / sizeof(long); i++)
		d[i] = s[i];
}

static long syscall_body(void *uregs)
{
	struct pt_regs *user = uregs;
	struct pt_regs *regs;
	bool resched;
	long nr;

	/* taken here, on the kernel stack: where the task waits is shared */
	lx_task_enter(lx_host->task_get());
	regs = task_pt_regs(current);
	regs_copy(regs, user);
	if (user->ip == LX_PLAIN_IP)
		current->thread.flags |= LX_THREAD_PLAIN;
	else
		current->thread.flags = (current->thread.flags &
					 ~LX_THREAD_PLAIN) | LX_THREAD_USER;
again:
	regs->ax = -ENOSYS;
	if ((unsigned long)regs->orig_ax - LX_SYS_BASE < 0x10000) {
		/*
		 * lx's own numbers (guest/ and host/ calling in) are not the
		 * program's calls: no seccomp filter or tracer of its sees
		 * them (a filter would take them for x32 calls)
		 */
		syscall_enter_from_user_mode_prepare(regs);
		nr = regs->orig_ax;
	} else {
		nr = syscall_enter_from_user_mode(regs, regs->orig_ax);
	}
	if (likely((unsigned long)nr < NR_syscalls))
		regs->ax = sys_call_table[nr](regs->di, regs->si, regs->dx,
					      regs->r10, regs->r8, regs->r9);
	else if (nr == LX_SYS_HOSTFD)
		regs->ax = lx_sys_hostfd(regs->di, regs->si,
					 (const char __user *)regs->dx);
	else if (nr == LX_SYS_HOSTFD_GET)
		regs->ax = lx_sys_hostfd_get(regs->di);
	else if (nr == LX_SYS_KICKABLE)
		regs->ax = lx_sys_kickable(regs->di, regs->si);
	else if (nr == LX_SYS_FUTEX_INTR)
		regs->ax = lx_sys_futex_intr(regs, __NR_futex);
	else if (nr == LX_SYS_FUTEX_WAITV_INTR)
		regs->ax = lx_sys_futex_intr(regs, __NR_futex_waitv);
	else if (nr == LX_SYS_CPU_SIGNAL)
		regs->ax = lx_sys_cpu_signal(regs->di);
	else if (nr == LX_SYS_CPU_TIMER)
		regs->ax = lx_sys_cpu_timer(regs->di, regs->si, regs->dx,
					    regs->r10, regs->r8);
	else if (nr == LX_SYS_UMAP)
		regs->ax = lx_sys_umap(regs->di, regs->si, regs->dx, regs->r10,
				       regs->r8, regs->r9);
	else if (nr == LX_SYS_FUSE_REF)
		regs->ax = lx_sys_fuse_ref(regs->di, (void __user *)regs->si,
					   regs->dx);
	else if (nr == LX_SYS_MAP_PAGES)
		regs->ax = lx_sys_map_pages(regs->di, regs->si, regs->dx,
					    regs->r10,
					    (unsigned long __user *)regs->r8);
	/*
	 * A task going back to user code needs no CPU: rather than being
	 * preempted here (its thread would wait for its turn), it gives the
	 * CPU to the woken task in lx_task_leave() and goes on in parallel,
	 * as on a second CPU.  Only the CPU's holder sets the flag: a plain
	 * test first spares the common case a locked instruction.
	 */
	resched = test_tsk_thread_flag(current, TIF_NEED_RESCHED);
	if (resched)
		clear_tsk_thread_flag(current, TIF_NEED_RESCHED);
	syscall_exit_to_user_mode(regs);
	if (resched)
		set_tsk_need_resched(current);
	if (user->ip == LX_PLAIN_IP && regs->ip == LX_PLAIN_IP - 2) {
		regs->ip = LX_PLAIN_IP;
		regs->orig_ax = regs->ax;
		goto again;
	}
	regs_copy(user, regs);
	lx_sigs_deferred();
	lx_task_leave();
	return user->ax;
}

/* Enter the kernel on the calling host thread's task, and run body. */
static long enter(long (*body)(void *), void *arg)
{
	struct task_struct *t;
	struct lx_jmp jb;

	if (unlikely(!lx_kernel_running()))
		return -ENODEV;
	t = lx_this_task();
	if (IS_ERR(t))
		return PTR_ERR(t);
	t->thread.exit_jb = &jb;
	if (lx_setjmp(&jb)) {
		/* the task was killed: this host thread has none any more */
		lx_wake_dead_next();
		lx_host->task_set(NULL);
		return -EINTR;
	}
	return lx_task_call(t, body, arg);
}

long lx_kernel_syscall(void *uregs)
{
	return enter(syscall_body, uregs);
}

struct user_entry {
	struct pt_regs *user;
	int sig, code;
	unsigned long addr;
	const unsigned long *trap;	/* trapno, err, cr2 (struct lx_trap) */
};

/*
 * Not a system call: the thread was interrupted in user code with these
 * registers - by a fault (sig, forced on it as x86's trap handlers do)
 * or to take a signal sent to it - and goes back as after an interrupt:
 * no seccomp, no restart, every register kept but what signal delivery
 * changes.
 */
static long user_entry_body(void *arg)
{
	struct user_entry *u = arg;
	struct pt_regs *regs;

	lx_task_enter(lx_host->task_get());
	regs = task_pt_regs(current);
	regs_copy(regs, u->user);
	regs->orig_ax = -1;
	current->thread.flags = (current->thread.flags & ~LX_THREAD_PLAIN) |
				LX_THREAD_USER;
	if (u->sig) {
		/* for the sigcontext, as x86's trap handlers keep them */
		if (u->trap) {
			current->thread.trap_nr = u->trap[0];
			current->thread.error_code = u->trap[1];
			current->thread.cr2 = u->trap[2];
		}
		force_sig_fault(u->sig, u->code, (void __user *)u->addr);
	}
	local_irq_disable();
	irqentry_exit_to_user_mode(regs);
	regs_copy(u->user, regs);
	lx_task_leave();
	return 0;
}

long lx_kernel_user_entry(void *uregs, int sig, int code, unsigned long addr,
			  const void *trap)
{
	struct user_entry u = { uregs, sig, code, addr, trap };

	switch (sig) {
	case 0:
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGTRAP:
		return enter(user_entry_body, &u);
	}
	return -EINVAL;
}

/* The host thread of a host task ended (its TLS destructor runs this). */
void lx_kernel_thread_gone(void *task)
{
	if (lx_kernel_running() && task)
		lx_task_exit(task);
}
