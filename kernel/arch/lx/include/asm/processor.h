/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _ASM_LX_PROCESSOR_H
#define _ASM_LX_PROCESSOR_H

#include <asm/ptrace.h>

struct task_struct;
struct lx_jmp;

/*
 * What a task needs beyond struct task_struct: its user registers (the
 * syscall frame of a thread entering from a program, or a synthetic one),
 * the host thread behind it, and the word that host thread parks on.
 */
struct thread_struct {
	struct pt_regs regs;
	/* 1 when the task's host thread may run; see arch/lx/kernel/sched.c */
	unsigned int run;
	/* the task that switched to this one; returned by __switch_to */
	struct task_struct *prev_sched;
	/* kernel thread entry, for a host thread that starts a task */
	int (*fn)(void *);
	void *fn_arg;
	/* set when the host thread left to user code: see lx_task_leave() */
	unsigned int flags;
	/* where a host task's thread resumes when the task has exited */
	struct lx_jmp *exit_jb;
	/* where the task waits for the CPU (lx_task_park()), and whether it does */
	struct lx_jmp_regs {
		unsigned long regs[8];
	} park_jb;
	unsigned int parked;
	/* the host thread of a kernel task that never ran says it is gone */
	unsigned int unborn_ack;
	/* the host process the task's thread belongs to */
	unsigned int host_pid;
	/* a fiber woken for the runner: its queue (sched.c) */
	struct task_struct *fiber_next;
	unsigned int fiber_queued;
	/* the last fault in user code, for a signal's sigcontext (as x86) */
	unsigned long trap_nr, error_code, cr2;
};

#define INIT_THREAD { }

/* /proc neither lists nor finds a process's anchor (fork.c) */
struct task_struct;
bool lx_task_hidden(struct task_struct *t);
#define arch_proc_task_hidden(t) lx_task_hidden(t)

/*
 * Spinning kernel code waits for something an interrupt brings: run the
 * interrupts host threads raised, as the hardware would have.
 */
extern unsigned long lx_irq_flags, lx_irq_pending;
void lx_run_pending_irqs(void);

/* A pause for code that waits outside the kernel (no interrupts run). */
static inline void cpu_relax_host(void)
{
	__builtin_ia32_pause();
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
	if (lx_irq_flags && __atomic_load_n(&lx_irq_pending, __ATOMIC_RELAXED))
		lx_run_pending_irqs();
}
#define TASK_SIZE 0x7ffffffff000UL
#define TASK_UNMAPPED_BASE 0
#define STACK_TOP TASK_SIZE
#define STACK_TOP_MAX TASK_SIZE

#define KSTK_EIP(tsk) (task_pt_regs(tsk)->ip)
#define KSTK_ESP(tsk) (task_pt_regs(tsk)->sp)

/* Kernel code runs on the stack of the host thread it came with. */
static inline int on_thread_stack(void)
{
	return 1;
}

static inline unsigned long __get_wchan(struct task_struct *p)
{
	return 0;
}

static inline void start_thread(struct pt_regs *regs, unsigned long ip,
				unsigned long sp)
{
	regs->ip = ip;
	regs->sp = sp;
}

#endif
