/* SPDX-License-Identifier: GPL-2.0 */
/* lx.h - what the parts of arch/lx share. */
#ifndef _ASM_LX_LX_H
#define _ASM_LX_LX_H

#include <lx/host_ops.h>

extern const struct lx_host_ops *lx_host;

/* A host thread's resume point: callee-saved registers, stack, pc. */
struct lx_jmp {
	unsigned long rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
int lx_setjmp(struct lx_jmp *jb) __attribute__((returns_twice));
#define lx_park_jb(t) ((struct lx_jmp *)&(t)->thread.park_jb)
void lx_longjmp(struct lx_jmp *jb) __attribute__((noreturn));

/* thread_struct.flags */
#define LX_THREAD_KERNEL 0x1	/* a kernel thread (of its own host thread, or a fiber) */
#define LX_THREAD_ORPHAN 0x2	/* its host process died: the adopter runs it */
#define LX_THREAD_PLAIN 0x4	/* in a call from lx_syscall(): no user context */
#define LX_THREAD_UNBORN 0x8	/* its fork failed before it ever ran */
#define LX_THREAD_UNCOUNTED 0x10 /* an anchor: not in its signal's nr_threads */
#define LX_THREAD_USER 0x20	/* has run user code: a program's thread */
#define LX_THREAD_SIGDEFER 0x40	/* signals left for its way back to user code */
#define LX_THREAD_HOSTIO 0x80	/* in a system call, in a host call without the CPU */
#define LX_THREAD_FIBER 0x100	/* a kernel thread the fiber runner runs (sched.c) */
#define LX_THREAD_FIBER_RAN 0x200 /* ... that has run */

struct task_struct;

void lx_cpu_take(void);
bool lx_cpu_held_by(unsigned int pid);
bool lx_become(struct task_struct *target);
struct task_struct *lx_task_park(struct task_struct *t);
void lx_task_wake(struct task_struct *t);
void *lx_stack_top(struct task_struct *t);
void lx_anchor_block_signals(struct task_struct *t);
struct task_struct *lx_this_task(void);
void lx_orphan_parked(void);
extern struct task_struct *lx_adopt_next;
extern unsigned int lx_adopt_count;
extern unsigned int lx_cpu_holder;
void lx_cpu_release(void);
void lx_task_enter(struct task_struct *t);
void lx_task_leave(void);
void lx_task_exit(struct task_struct *t);
long lx_task_call(struct task_struct *t, long (*fn)(void *), void *arg);
void lx_wake_dead_next(void);
/* Call fn(arg) with the stack pointer at stack_top. */
long lx_call_on_stack(long (*fn)(void *), void *arg, void *stack_top);
struct task_struct *lx_task_create(struct task_struct *anchor,
				   unsigned long flags);
void lx_irq_from_host(void);
/* Interrupts run on a free CPU, where they interrupt no kernel code */
void lx_run_pending_irqs_free(void);
bool lx_irqs_pending_free(void);
bool arch_irq_interrupted_nothing(void);
struct callback_head;
bool arch_call_on_free_cpu(struct callback_head *cb);
bool arch_runs_pending_softirqs(void);
void lx_threads_stop(void);
void lx_boot_done(void);
void lx_boot_thread_start(void);
extern unsigned int lx_halting;
void lx_ram_ahead_init(unsigned long end_pfn);
void lx_ram_ahead_boot(unsigned long end_pfn);

long lx_sys_hostfd(int host_fd, unsigned int flags, const char __user *name);
long lx_sys_hostfd_get(int fd);
long lx_sys_kickable(int host_pid, int host_tid);
struct pt_regs;
long lx_sys_futex_intr(struct pt_regs *regs, long nr);
long lx_sys_cpu_signal(int sig);
long lx_sys_cpu_timer(int sig, int timerid, int overrun, unsigned long value,
		      pid_t tid);
void lx_kick_self(void);
void lx_sigs_deferred(void);
void arch_signal_kick(struct task_struct *t);
void lx_kick_forget(struct task_struct *t);
void lx_kick_pending(void);
long lx_sys_fuse_ref(int fd, struct lx_fuse_ref __user *ref,
		     unsigned long flags);
long lx_sys_map_pages(int fd, unsigned long pgoff, unsigned long n,
		      unsigned long uaddr, unsigned long __user *kaddrs);
struct mm_struct;
void lx_pins_drop(struct mm_struct *mm, unsigned long uaddr,
		  unsigned long len);
void lx_pins_move(struct mm_struct *mm, unsigned long old, unsigned long len,
		  unsigned long to);
long lx_sys_umap(unsigned long op, unsigned long start, unsigned long len,
		 unsigned long prot, long fd, unsigned long arg);

void lx_time_init(void);
void lx_timer_irq_init(void);

#endif
