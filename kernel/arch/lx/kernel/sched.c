// SPDX-License-Identifier: GPL-2.0
/*
 * sched.c - one virtual CPU shared by host threads.
 *
 * Every kernel task is backed by one host thread, or is a fiber (below);
 * only the thread of the task Linux's scheduler chose (current) runs kernel
 * code.  Switching is handing over: __switch_to() wakes the next task's
 * thread through its run word and parks the previous one on its own.
 *
 * The CPU word says whether some thread runs kernel code.  When none does,
 * current is either the idle task, whose thread is parked in
 * arch_cpu_idle(), or a "host task" (the task of a host thread that called
 * into the kernel) that went back to user code without leaving the CPU:
 * keeping it current makes its next system call as cheap as taking the
 * CPU word.  A host thread that takes the free CPU may therefore borrow the
 * context of current: it runs interrupts there, or parks current (a host
 * task in user code is in TASK_PARKED, a state only lx wakes) and calls
 * schedule() on its behalf.  The borrowed frame is escaped with a jump as
 * soon as the switch away from it is made, unless the borrower itself is
 * the thread of the next task, in which case it simply goes on as that task.
 */
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/sched/signal.h>
#include <linux/sched/debug.h>
#include <linux/interrupt.h>
#include <linux/tick.h>
#include <linux/cpu.h>
#include <linux/init.h>
#include <linux/string.h>
#include <asm/lx.h>

/* kernel/sched/sched.h is private to the scheduler */
extern void schedule_idle(void);

struct task_struct *lx_current = &init_task;
const struct lx_host_ops *lx_host;

/* 0: free; 1: taken; 2: taken and someone waits for it. */
static unsigned int cpu_word;
/* The host process (pid) whose thread took the CPU last. */
unsigned int lx_cpu_holder;

/* A borrowed frame that must be left once the switch from it is made. */
static struct {
	struct lx_jmp *jb;
	struct task_struct *prev;
	struct task_struct *target;
} escape;

/* Idle's thread waits in arch_cpu_idle() with the CPU released. */
static bool idle_parked;

/* Host threads that back kernel threads, and fibers, for lx_halt(). */
static unsigned int kthreads_alive;
unsigned int lx_halting;

/*
 * Fibers.  The kernel threads of the home process (PF_KTHREAD: kthreadd
 * and all it makes - workers, ksoftirqd, rescuers, kswapd...) have no
 * host thread each: one host thread of the home, the runner, runs them.
 * A parked fiber's context is its resume point on its own kernel stack
 * (park_jb); the runner jumps there when the fiber is woken, and the fiber
 * jumps back to the runner when it parks.  A switch between two fibers is
 * then two jumps on one host thread instead of a futex wake-up of another
 * thread and a futex wait, and a new kernel thread costs no clone (a boot
 * makes ~20 and switches ~150 times; each host thread also costs its
 * process's exit a wake-up and teardown).  A fiber must never wait on the
 * host without the CPU (lx_task_leave()): the others would wait with it;
 * only tasks with a thread of their own do that.  lx_fibers=0 on the
 * command line gives every kernel thread a host thread again.
 */
static void kthread_gone(void);

static bool fibers_on = true;
static unsigned int fibers_pid;		/* the home's: where the runner is */
static bool runner_started;
static unsigned int fibers_alive;	/* made, and not dead or gone */
static struct task_struct *runner_queue; /* woken, LIFO via fiber_next */
static unsigned int runner_word;	/* bumped at each wake-up */
static struct task_struct *runner_fiber; /* the fiber the runner is in */
static struct lx_jmp runner_jb;		/* where a fiber leaves the runner */
static enum { FIBER_DIED, FIBER_PARKED, FIBER_GONE } runner_why;

static int __init lx_fibers_param(char *p)
{
	fibers_on = !p || strcmp(p, "0") != 0;
	return 0;
}
early_param("lx_fibers", lx_fibers_param);

static bool on_runner(void)
{
	struct task_struct *f = READ_ONCE(runner_fiber);

	return f && lx_host->task_get() == f;
}

/* Queue woken fiber t for the runner (t's run word is set). */
static void fiber_wake(struct task_struct *t)
{
	struct task_struct *head;

	/*
	 * With the runner's clear of fiber_queued and exchange of run, a
	 * store-then-exchange on each side: sequentially consistent, or both
	 * could miss the other's store (free on x86, where xchg is a fence).
	 */
	if (__atomic_exchange_n(&t->thread.fiber_queued, 1, __ATOMIC_SEQ_CST))
		return;		/* queued and not yet looked at: it will run */
	head = __atomic_load_n(&runner_queue, __ATOMIC_RELAXED);
	do {
		t->thread.fiber_next = head;
	} while (!__atomic_compare_exchange_n(&runner_queue, &head, t, 1,
					      __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	__atomic_add_fetch(&runner_word, 1, __ATOMIC_RELEASE);
	/* the runner looks at its queue as soon as the fiber in it parks */
	if (!on_runner())
		lx_host->futex_wake(&runner_word, 1);
}

/* Back to the runner from the fiber it runs, for good unless PARKED. */
static void __noreturn fiber_leave(int why)
{
	runner_why = why;
	lx_longjmp(&runner_jb);
}

static void fiber_gone(void)
{
	__atomic_sub_fetch(&fibers_alive, 1, __ATOMIC_RELEASE);
	if (__atomic_sub_fetch(&kthreads_alive, 1, __ATOMIC_RELEASE) == 0)
		lx_host->futex_wake(&kthreads_alive, 1);
}

static struct task_struct *park_done(struct task_struct *t);

/* A fiber's first run, on its kernel stack. */
static long fiber_body(void *arg)
{
	struct task_struct *t = arg;

	schedule_tail(park_done(t));
	t->thread.fn(t->thread.fn_arg);
	/* kernel threads end in do_exit() */
	BUG();
}

/* Run fiber t until it parks, dies or, at halt, is gone. */
static void fiber_run(struct task_struct *t)
{
	/*
	 * The home holds the CPU from now on.  Not before: a program process
	 * that dies between waking t and queueing it held the CPU last, and
	 * its death must say so (lx_kernel_process_died()).
	 */
	WRITE_ONCE(lx_cpu_holder, fibers_pid);
	WRITE_ONCE(runner_fiber, t);
	lx_host->task_set(t);
	runner_why = FIBER_DIED;	/* a dead task jumps to its exit_jb */
	if (lx_setjmp(&runner_jb) == 0) {
		if (!(t->thread.flags & LX_THREAD_FIBER_RAN)) {
			t->thread.flags |= LX_THREAD_FIBER_RAN;
			t->thread.exit_jb = &runner_jb;
			lx_call_on_stack(fiber_body, t, lx_stack_top(t));
		}
		lx_longjmp(lx_park_jb(t));
	}
	WRITE_ONCE(runner_fiber, NULL);
	lx_host->task_set(NULL);
	if (runner_why == FIBER_DIED) {
		/* off the dead stack, which the next task frees */
		lx_wake_dead_next();
		fiber_gone();
	}
}

/*
 * The runner's host thread.  Its own frames, on its host stack, hold
 * nothing the kernel links into shared lists: it waits only on
 * runner_word, and kernel code proper runs on the fibers' stacks.
 */
static void fiber_runner(void *unused)
{
	struct task_struct *list, *t, *next, *rev;
	unsigned int w;

	for (;;) {
		w = __atomic_load_n(&runner_word, __ATOMIC_ACQUIRE);
		list = __atomic_exchange_n(&runner_queue, NULL,
					   __ATOMIC_ACQUIRE);
		if (!list) {
			if (READ_ONCE(lx_halting) &&
			    !__atomic_load_n(&fibers_alive, __ATOMIC_ACQUIRE))
				break;
			lx_host->futex_wait(&runner_word, w);
			continue;
		}
		/* in the order they were woken */
		for (rev = NULL; list; list = next) {
			next = list->thread.fiber_next;
			list->thread.fiber_next = rev;
			rev = list;
		}
		for (t = rev; t; t = next) {
			next = t->thread.fiber_next;
			__atomic_store_n(&t->thread.fiber_queued, 0,
					 __ATOMIC_SEQ_CST);
			if (__atomic_exchange_n(&t->thread.run, LX_RUN_NOT,
						__ATOMIC_SEQ_CST))
				fiber_run(t);
		}
	}
	kthread_gone();
}

/* Whether kernel thread p (being made) is a fiber; starts the runner. */
static int fiber_make(struct task_struct *p, const struct kernel_clone_args *args)
{
	int ret;

	if (!fibers_on || !args->kthread || p->thread.host_pid != fibers_pid)
		return 0;
	if (!runner_started) {
		__atomic_add_fetch(&kthreads_alive, 1, __ATOMIC_RELAXED);
		ret = lx_host->thread_start(fiber_runner, NULL);
		if (ret) {
			__atomic_sub_fetch(&kthreads_alive, 1, __ATOMIC_RELAXED);
			return ret;
		}
		runner_started = true;
	}
	p->thread.flags |= LX_THREAD_FIBER;
	__atomic_add_fetch(&fibers_alive, 1, __ATOMIC_RELAXED);
	return 1;
}

/* The boot thread, which becomes the idle task's. */
void lx_boot_thread_start(void)
{
	__atomic_add_fetch(&kthreads_alive, 1, __ATOMIC_RELAXED);
	fibers_pid = init_task.thread.host_pid;
}

/* Take the CPU for a thread of host process host_pid. */
static void cpu_take_for(unsigned int host_pid)
{
	unsigned int c = 0;
	int spin;

	/* the CPU is held for short stretches: a brief spin saves a sleep */
	for (spin = 0; spin < 200 && READ_ONCE(cpu_word); spin++)
		cpu_relax_host();

	if (!__atomic_compare_exchange_n(&cpu_word, &c, 1, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		if (c != 2)
			c = __atomic_exchange_n(&cpu_word, 2, __ATOMIC_ACQUIRE);
		while (c != 0) {
			lx_host->futex_wait(&cpu_word, 2);
			c = __atomic_exchange_n(&cpu_word, 2, __ATOMIC_ACQUIRE);
		}
	}
	WRITE_ONCE(lx_cpu_holder, host_pid);
}

void lx_cpu_take(void)
{
	cpu_take_for(lx_host->host_pid());
}

/* Whether the CPU is held, and by a thread of host process pid. */
bool lx_cpu_held_by(unsigned int pid)
{
	return READ_ONCE(cpu_word) && READ_ONCE(lx_cpu_holder) == pid;
}

static bool cpu_try_take(void)
{
	unsigned int c = 0;

	if (!__atomic_compare_exchange_n(&cpu_word, &c, 1, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	WRITE_ONCE(lx_cpu_holder, lx_host->host_pid());
	return true;
}

static void cpu_release_word(void)
{
	if (__atomic_exchange_n(&cpu_word, 0, __ATOMIC_RELEASE) == 2)
		lx_host->futex_wake(&cpu_word, 1);
}

/*
 * An orphan's turn to run: the adopter thread picks it up (fork.c); it
 * waits on the count of hand-overs (a futex word is 32 bits).
 */
struct task_struct *lx_adopt_next;
unsigned int lx_adopt_count;

void lx_task_wake(struct task_struct *t)
{
	if (unlikely(t->thread.flags & LX_THREAD_ORPHAN)) {
		/* its host thread is gone with its process */
		__atomic_store_n(&lx_adopt_next, t, __ATOMIC_RELEASE);
		__atomic_add_fetch(&lx_adopt_count, 1, __ATOMIC_RELEASE);
		lx_host->futex_wake(&lx_adopt_count, 1);
		return;
	}
	if (t->thread.flags & LX_THREAD_FIBER) {
		/* the runner makes the home the holder (fiber_run()) */
		__atomic_store_n(&t->thread.run, LX_RUN_GO, __ATOMIC_SEQ_CST);
		fiber_wake(t);
		return;
	}
	/* from now on t's process holds the CPU, whether it runs yet or not */
	WRITE_ONCE(lx_cpu_holder, t->thread.host_pid);
	/* a thread still spinning in park_wait() needs no wake-up call */
	if (__atomic_exchange_n(&t->thread.run, LX_RUN_GO, __ATOMIC_SEQ_CST) ==
	    LX_RUN_SLEEPING)
		lx_host->futex_wake(&t->thread.run, 1);
}

/* The task the dying one switched to, woken once off the dead stack. */
static struct task_struct *dead_next;

static void kthread_gone(void)
{
	if (__atomic_sub_fetch(&kthreads_alive, 1, __ATOMIC_RELEASE) == 0)
		lx_host->futex_wake(&kthreads_alive, 1);
	lx_host->thread_exit();
}

void *lx_stack_top(struct task_struct *t)
{
	return task_stack_page(t) + THREAD_SIZE;
}

/*
 * Wait until the scheduler hands the CPU to t; returns the task that ran
 * before.  A kernel thread woken for halt ends here.
 */
struct task_struct *lx_task_park(struct task_struct *t)
{
	/*
	 * The point to resume t at, on its stack in the shared region, if its
	 * process dies while t waits here: another thread goes on as t.  A
	 * fiber's runner resumes it there too.
	 */
	if (lx_setjmp(lx_park_jb(t)) == 0) {
		WRITE_ONCE(t->thread.parked, 1);
		if (t->thread.flags & LX_THREAD_FIBER) {
			/* only the runner runs a fiber: runner_jb is its */
			WARN_ON_ONCE(!on_runner());
			fiber_leave(FIBER_PARKED);
		}
		if (unlikely(t->thread.flags & LX_THREAD_ORPHAN))
			lx_orphan_parked();
		while (__atomic_exchange_n(&t->thread.run, LX_RUN_NOT,
					   __ATOMIC_ACQUIRE) != LX_RUN_GO)
			lx_host->park_wait(&t->thread.run);
	}
	return park_done(t);
}

/* t's turn came: the task that ran before (a kernel thread at halt ends). */
static struct task_struct *park_done(struct task_struct *t)
{
	WRITE_ONCE(t->thread.parked, 0);
	if (unlikely(t->thread.flags & LX_THREAD_UNBORN)) {
		/* exit_thread() waits for this, then t is freed: not a look more */
		__atomic_store_n(&t->thread.unborn_ack, 1, __ATOMIC_RELEASE);
		lx_host->futex_wake(&t->thread.unborn_ack, 1);
		kthread_gone();
	}
	/* lx_task_wake() made t's process the CPU's holder */
	if (unlikely(READ_ONCE(lx_halting)) &&
	    (t->thread.flags & LX_THREAD_KERNEL)) {
		if (t->thread.flags & LX_THREAD_FIBER) {
			fiber_gone();
			fiber_leave(FIBER_GONE);
		}
		kthread_gone();
	}
	return t->thread.prev_sched;
}

struct task_struct *__switch_to(struct task_struct *prev,
				struct task_struct *next)
{
	struct lx_jmp *jb = escape.jb;

	next->thread.prev_sched = prev;
	lx_current = next;

	if (jb && escape.prev == prev) {
		escape.jb = NULL;
		if (next == escape.target)
			return prev;
		lx_task_wake(next);
		lx_longjmp(jb);
	}

	if (prev->__state == TASK_DEAD) {
		/*
		 * The next task frees this stack: leave it first, to the
		 * resume point the dying task's thread set off it, which
		 * wakes next (lx_wake_dead_next()).
		 */
		dead_next = next;
		lx_longjmp(prev->thread.exit_jb);
	}

	if (is_idle_task(next) && idle_parked) {
		/*
		 * Nothing else to run: finish the switch as idle would and
		 * leave the CPU free, without waking idle's thread only for
		 * it to release the CPU.
		 */
		schedule_tail(prev);
		/* the interrupts schedule_tail() ran may have woken a task */
		if (!(need_resched() && lx_become(NULL)))
			lx_cpu_release();
		return lx_task_park(prev);
	}

	lx_task_wake(next);
	return lx_task_park(prev);
}

/*
 * Called by a host thread that holds the CPU and may borrow current: make
 * target (already runnable) current and go on as it.  target == NULL only
 * schedules, for a thread that has no task to go on as (interrupts, a task
 * leaving for user code).  Returns true if the CPU went to another thread,
 * false if the caller still holds it (as target, or because nothing else
 * was to run).
 */
bool lx_become(struct task_struct *target)
{
	struct task_struct *cur = current;
	struct lx_jmp jb;

	if (cur == target)
		return false;
	/* an orphan stays runnable: the scheduler hands it to the adopter */
	if (!is_idle_task(cur) && !(cur->thread.flags & LX_THREAD_ORPHAN))
		WRITE_ONCE(cur->__state, TASK_PARKED);
	if (lx_setjmp(&jb) == 0) {
		escape.jb = &jb;
		escape.prev = cur;
		escape.target = target;
		if (is_idle_task(cur))
			schedule_idle();
		else
			schedule();
		/* no switch was made, or the switch made us target */
		escape.jb = NULL;
		WARN_ON(target && current != target);
		return false;
	}
	if (!target)
		return true;
	/* another task runs now; wait for the scheduler to pick target */
	schedule_tail(lx_task_park(target));
	return false;
}

/* A task died and switched to dead_next; its thread is off its stack. */
void lx_wake_dead_next(void)
{
	lx_task_wake(dead_next);
}

/*
 * Softirqs raised outside interrupts (Tiny RCU's at a context switch after
 * call_rcu(), a wake-up of a socket...) wake no ksoftirqd (a fiber: a hand
 * over to the runner thread; kernel/patches/0015): they run here, when the
 * CPU is given up, and when it goes idle.  Interrupts are enabled.
 */
bool arch_runs_pending_softirqs(void)
{
	return true;
}

/*
 * Give the CPU up; interrupts raised meanwhile are run first, and pending
 * softirqs once (what is left then is ksoftirqd's, which do_softirq()
 * leaves alone while it is runnable).
 */
void lx_cpu_release(void)
{
	bool softirqs_ran = false;

	for (;;) {
		if (!lx_irqs_pending_free() &&
		    (softirqs_ran || !local_softirq_pending())) {
			cpu_release_word();
			if (!READ_ONCE(lx_irq_pending) || !cpu_try_take())
				return;
		}
		lx_irq_flags = ARCH_IRQ_ENABLED;
		lx_run_pending_irqs_free();
		if (!softirqs_ran && local_softirq_pending()) {
			do_softirq();
			softirqs_ran = true;
		}
		/* current has no thread here: let the scheduler run it */
		if (need_resched() && lx_become(NULL))
			return;
	}
}

/*
 * Run the interrupts host threads raised, from a thread that is not
 * running kernel code; returns at once if the CPU is busy (its holder runs
 * them when it re-enables interrupts or leaves).
 */
void lx_irq_from_host(void)
{
	if (!cpu_try_take())
		return;
	lx_cpu_release();
}

/*
 * The calling host thread's task t enters the kernel: take the CPU and
 * make t current.  t is current already (it left lazily), or parked.
 */
void lx_task_enter(struct task_struct *t)
{
	cpu_take_for(t->thread.host_pid);
	if (current == t)
		return;
	wake_up_state(t, TASK_PARKED);
	lx_become(t);
}

/*
 * The current host task leaves for user code.  It stays current unless
 * another task should run.
 */
void lx_task_leave(void)
{
	lx_irq_flags = ARCH_IRQ_ENABLED;
	if (lx_irqs_pending_free())
		lx_run_pending_irqs_free();
	if (need_resched() && lx_become(NULL))
		return;
	lx_cpu_release();
}

/* Make a new host task that is a thread of the process anchor belongs to. */
struct task_struct *lx_task_create(struct task_struct *anchor,
				   unsigned long flags)
{
	struct kernel_clone_args args = {
		.flags = flags,
		.exit_signal = (flags & CLONE_THREAD) ? 0 : SIGCHLD,
	};
	struct task_struct *t;
	pid_t pid;

	wake_up_state(anchor, TASK_PARKED);
	lx_become(anchor);
	pid = kernel_clone(&args);
	if (pid < 0)
		return ERR_PTR(pid);
	/* pid is as the caller's namespace sees it */
	rcu_read_lock();
	t = find_task_by_vpid(pid);
	rcu_read_unlock();
	lx_become(t);
	/* the anchor blocks every signal (lx_anchor_block_signals()); not so t */
	sigemptyset(&current->blocked);
	recalc_sigpending();
	return t;
}

/*
 * A process's anchor runs no code, so it takes no signal: signals to the
 * process go to a thread of it that does not block them, or stay pending
 * for one, as in a process whose main thread blocks everything.
 */
void lx_anchor_block_signals(struct task_struct *t)
{
	siginitsetinv(&t->blocked, sigmask(SIGKILL) | sigmask(SIGSTOP));
}

static long kthread_body(void *arg)
{
	struct task_struct *t = arg;

	schedule_tail(lx_task_park(t));
	if (t->thread.fn(t->thread.fn_arg) == 0 && !(t->flags & PF_KTHREAD)) {
		/*
		 * init ran its "program" (see setup.c): it stays the anchor of
		 * the booting process, a task without a thread; this thread
		 * hands the CPU on and ends.
		 */
		t->thread.flags &= ~LX_THREAD_KERNEL;
		lx_anchor_block_signals(t);
		*lx_host->anchor = t;
		if (!lx_become(NULL))
			lx_cpu_release();
		lx_boot_done();
		return 0;
	}
	/* kernel threads end in do_exit(); nothing comes back here */
	BUG();
}

/*
 * The first code a kernel thread's host thread runs; the kernel code runs
 * on the task's stack, in the shared region.
 */
static void kthread_start(void *arg)
{
	struct task_struct *t = arg;
	struct lx_jmp jb;

	lx_host->task_set(t);
	t->thread.exit_jb = &jb;
	if (lx_setjmp(&jb) == 0)
		lx_call_on_stack(kthread_body, t, lx_stack_top(t));
	else
		lx_wake_dead_next();
	kthread_gone();
}

int copy_thread(struct task_struct *p, const struct kernel_clone_args *args)
{
	int ret;

	memset(&p->thread, 0, sizeof(p->thread));
	p->thread.host_pid = current->thread.host_pid;
	if (!args->fn) {
		/* a host task: a host thread adopts it (lx_task_create, clone) */
		p->thread.regs = current->thread.regs;
		p->thread.regs.ax = 0;
		return 0;
	}
	p->thread.fn = args->fn;
	p->thread.fn_arg = args->fn_arg;
	p->thread.flags = LX_THREAD_KERNEL;
	__atomic_add_fetch(&kthreads_alive, 1, __ATOMIC_RELAXED);
	ret = fiber_make(p, args);
	if (ret == 0)
		ret = lx_host->thread_start(kthread_start, p);
	if (ret < 0) {
		__atomic_sub_fetch(&kthreads_alive, 1, __ATOMIC_RELAXED);
		return ret;
	}
	return 0;
}

/*
 * A task goes away: for a kernel task whose fork failed after copy_thread()
 * started its host thread (which waits for its first turn), that thread
 * must end before the task is freed.
 */
void exit_thread(struct task_struct *tsk)
{
	lx_kick_forget(tsk);
	/* an anchor counts again as it goes, as __exit_signal() expects */
	if (tsk->thread.flags & LX_THREAD_UNCOUNTED) {
		write_lock_irq(&tasklist_lock);
		tsk->signal->nr_threads++;
		tsk->thread.flags &= ~LX_THREAD_UNCOUNTED;
		write_unlock_irq(&tasklist_lock);
	}
	if (tsk == current || !(tsk->thread.flags & LX_THREAD_KERNEL))
		return;
	if (tsk->thread.flags & LX_THREAD_FIBER) {
		/* it never ran (its fork failed): nothing runs on its stack */
		fiber_gone();
		return;
	}
	tsk->thread.flags |= LX_THREAD_UNBORN;
	__atomic_store_n(&tsk->thread.run, LX_RUN_GO, __ATOMIC_RELEASE);
	lx_host->futex_wake(&tsk->thread.run, 1);
	while (!__atomic_load_n(&tsk->thread.unborn_ack, __ATOMIC_ACQUIRE))
		lx_host->futex_wait(&tsk->thread.unborn_ack, 0);
}

/* The idle task waits here, CPU released, until a switch wakes it. */
void arch_cpu_idle(void)
{
	/* read before the CPU is released: a borrower changes current */
	struct task_struct *idle = current;

	lx_irq_flags = ARCH_IRQ_ENABLED;
	if (lx_irqs_pending_free()) {
		lx_run_pending_irqs_free();
		return;
	}
	if (local_softirq_pending()) {
		do_softirq();
		return;
	}
	idle_parked = true;
	cpu_release_word();
	if (READ_ONCE(lx_irq_pending) && cpu_try_take()) {
		if (current == idle) {
			idle_parked = false;
			lx_run_pending_irqs_free();
			return;
		}
		/* a borrower made another task current meanwhile: not ours */
		lx_cpu_release();
	}
	idle = lx_task_park(idle);
	idle_parked = false;
	schedule_tail(idle);
}

static long task_exit_body(void *arg)
{
	lx_task_enter(arg);
	do_exit(0);
}

/* The calling host task ends: its host thread is going away. */
void lx_task_exit(struct task_struct *t)
{
	struct lx_jmp jb;

	t->thread.exit_jb = &jb;
	if (lx_setjmp(&jb) == 0)
		lx_call_on_stack(task_exit_body, t, lx_stack_top(t));
	lx_wake_dead_next();
}

/* Run fn(arg) as the calling host thread's task t, on t's kernel stack. */
long lx_task_call(struct task_struct *t, long (*fn)(void *), void *arg)
{
	return lx_call_on_stack(fn, arg, lx_stack_top(t));
}

/*
 * Halt: every kernel thread's host thread is woken and ends; the caller
 * waits for the last one.
 */
void lx_threads_stop(void)
{
	struct task_struct *g, *t;
	unsigned int n;

	WRITE_ONCE(lx_halting, 1);
	/* a dead one's stack is no place to resume (a fiber's is freed) */
	for_each_process_thread(g, t)
		if ((t->thread.flags & LX_THREAD_KERNEL) && !t->exit_state)
			lx_task_wake(t);
	/* the adopter ends too */
	__atomic_add_fetch(&lx_adopt_count, 1, __ATOMIC_RELEASE);
	lx_host->futex_wake(&lx_adopt_count, 1);
	/* idle is no process: wake it too */
	if (init_task.thread.flags & LX_THREAD_KERNEL)
		lx_task_wake(&init_task);
	/* the runner ends when its fibers are gone */
	__atomic_add_fetch(&runner_word, 1, __ATOMIC_RELEASE);
	lx_host->futex_wake(&runner_word, 1);
	while ((n = __atomic_load_n(&kthreads_alive, __ATOMIC_ACQUIRE)))
		lx_host->futex_wait(&kthreads_alive, n);
}
