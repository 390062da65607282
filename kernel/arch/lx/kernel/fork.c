// SPDX-License-Identifier: GPL-2.0
/*
 * fork.c - one kernel shared by the host processes of a container.
 *
 * A host fork() through lx_fork() gets its own lx process: before the fork
 * the parent makes the child's anchor (a fork of the calling task: new
 * tgid, the caller's process as parent, a copy of its fd table and signal
 * handlers) and a task for the child's thread; after it the child's thread
 * adopts that task.  The kernel's memory is shared, so both processes run
 * one kernel.
 *
 * The home process (the one that booted the kernel) watches every process
 * it was told about.  When one dies, its tasks are orphans: those that
 * were in user code are made to exit, those that were waiting inside the
 * kernel get SIGKILL and are resumed, when the scheduler picks them, by the
 * adopter thread of the home process at the point they waited at (their
 * stacks and saved registers live in the shared region).
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/err.h>
#include <asm/lx.h>

struct fork_args {
	struct task_struct *parent;
	struct task_struct *anchor;
	struct task_struct *main;
};

static long fork_body(void *arg)
{
	struct fork_args *f = arg;
	struct task_struct *t;

	lx_task_enter(f->parent);
	/*
	 * The child process, a fork of the calling task: its first task is
	 * the thread the child's host thread adopts, the group leader, so
	 * that its tid is the pid, as in a process Linux starts.
	 */
	t = lx_task_create(f->parent, SIGCHLD);
	if (IS_ERR(t)) {
		f->main = t;
		goto out;
	}
	f->main = t;
	/* its anchor: a thread that runs no code */
	t = lx_task_create(f->main, CLONE_VM | CLONE_FS | CLONE_FILES |
			   CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM);
	if (IS_ERR(t)) {
		/* the first thread has run no code either: kill it from here */
		send_sig(SIGKILL, f->main, 1);
		f->main->thread.flags |= LX_THREAD_ORPHAN;
		wake_up_state(f->main, TASK_PARKED);
		f->main = ERR_CAST(t);
		goto out;
	}
	f->anchor = t;
	/*
	 * The anchor is lx's, not the program's: /proc's Threads: and
	 * friends do not count it (exit_thread() counts it back as it goes).
	 */
	write_lock_irq(&tasklist_lock);
	t->signal->nr_threads--;
	t->thread.flags |= LX_THREAD_UNCOUNTED;
	write_unlock_irq(&tasklist_lock);
	/* the child's main thread inherits the caller's signal mask */
	f->main->blocked = f->parent->blocked;
	lx_anchor_block_signals(f->anchor);
	/* the parent tags both after the host fork (lx_kernel_fork_parent) */
	get_task_struct(f->main);
	get_task_struct(f->anchor);
out:
	wake_up_state(f->parent, TASK_PARKED);
	lx_become(f->parent);
	lx_task_leave();
	return IS_ERR(f->main) ? PTR_ERR(f->main) : 0;
}

/*
 * A process's anchor is lx's, not the program's: as it is not counted in
 * the process's threads, /proc/PID/task does not list it, nor does /proc
 * find it by its tid (patches/0009).
 */
bool lx_task_hidden(struct task_struct *t)
{
	return t->thread.flags & LX_THREAD_UNCOUNTED;
}

/*
 * Run body(arg) on the calling host thread's task, which *self is set to
 * first.  -EINTR where a signal came that would have the call restarted:
 * there is no user context to restart here.
 */
static long call_as_self(long (*body)(void *), void *arg,
			 struct task_struct **self)
{
	struct task_struct *t;
	long ret;

	if (!lx_kernel_running())
		return -ENODEV;
	t = lx_this_task();
	if (IS_ERR(t))
		return PTR_ERR(t);
	*self = t;
	ret = lx_task_call(t, body, arg);
	return ret == -ERESTARTNOINTR ? -EINTR : ret;
}

/*
 * In the parent, before the host fork: make the child's process.  Returns
 * 0 with its anchor and first thread, or -errno.
 */
long lx_kernel_fork_prepare(void **anchor, void **main)
{
	struct fork_args f = { 0 };
	long ret;

	ret = call_as_self(fork_body, &f, &f.parent);
	if (ret)
		return ret;
	*anchor = f.anchor;
	*main = f.main;
	return 0;
}

struct thread_args {
	struct task_struct *creator, *t;
	unsigned long clear_tid;	/* CLONE_CHILD_CLEARTID's, or 0 */
	long tid;
};

static long thread_body(void *arg)
{
	struct thread_args *a = arg;
	struct task_struct *t;
	sigset_t mask, all;

	lx_task_enter(a->creator);
	/*
	 * A signal pending for the creator would fail the clone (for clone()
	 * to deliver it and start again): blocked meanwhile, as libcs block
	 * them around clone, it is the creator's once it is back.  Only a
	 * fatal one still fails it.
	 */
	mask = current->blocked;
	sigfillset(&all);
	set_current_blocked(&all);
	/*
	 * Untraced: a tracer's stop of the creator inside the clone would
	 * leave the new task to run with no host thread to run it.
	 */
	t = lx_task_create(a->creator, CLONE_VM | CLONE_FS | CLONE_FILES |
			   CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
			   CLONE_UNTRACED);
	if (!IS_ERR(t)) {
		/* as clone(): the creator's mask (lx_task_create() cleared it) */
		t->blocked = mask;
		recalc_sigpending();
		t->clear_child_tid = (int __user *)a->clear_tid;
		/* a signal meets it in the program's code, not lx's first calls */
		t->thread.flags |= LX_THREAD_USER;
		a->tid = task_pid_vnr(t);
	}
	a->t = t;
	wake_up_state(a->creator, TASK_PARKED);
	lx_become(a->creator);
	set_current_blocked(&mask);
	/* one that came meanwhile: the creator takes it in its code */
	if (signal_pending(current))
		lx_kick_self();
	lx_task_leave();
	return IS_ERR(t) ? PTR_ERR(t) : 0;
}

/*
 * In a thread of a program, for the host thread it is about to start: the
 * task of that thread, a clone of the caller's own task as clone() makes
 * it (credentials, seccomp filters, no_new_privs, name, signal mask and
 * all else a thread inherits from its creator; clear_tid, if not 0, is
 * CLONE_CHILD_CLEARTID's address), parked until the new host thread
 * adopts it.  Returns its tid, or -errno.
 */
long lx_kernel_thread_prepare(void **task, unsigned long clear_tid)
{
	struct thread_args a = { .clear_tid = clear_tid };
	long ret;

	ret = call_as_self(thread_body, &a, &a.creator);
	if (ret)
		return ret;
	*task = a.t;
	return a.tid;
}

/*
 * A prepared task whose thread will not run the program's code ends,
 * from the creator's host thread or its own: no clone happened for the
 * program, so there is no tid of its to clear.
 */
void lx_kernel_thread_unprepare(void *task)
{
	struct task_struct *t = task;

	WRITE_ONCE(t->clear_child_tid, NULL);
	lx_task_exit(t);
}

/*
 * After the host fork, on both sides: the tasks of the child process
 * belong to host process host_pid.  The child says so first thing, before
 * it makes any task; the parent too, for a child that died before - it
 * holds a reference on both tasks from lx_kernel_fork_prepare() until
 * then, and drops it.
 */
void lx_kernel_fork_child(void *anchor, void *main, int host_pid)
{
	struct task_struct *a = anchor, *m = main;

	WRITE_ONCE(a->thread.host_pid, host_pid);
	WRITE_ONCE(m->thread.host_pid, host_pid);
}

struct tag_args {
	struct task_struct *self, *anchor, *main;
	int host_pid;
};

/* In the kernel: dropping a reference may free a task. */
static long tag_body(void *arg)
{
	struct tag_args *a = arg;

	lx_task_enter(a->self);
	lx_kernel_fork_child(a->anchor, a->main, a->host_pid);
	put_task_struct(a->anchor);
	put_task_struct(a->main);
	lx_task_leave();
	return 0;
}

void lx_kernel_fork_parent(void *anchor, void *main, int host_pid)
{
	struct tag_args a = { .anchor = anchor, .main = main,
			      .host_pid = host_pid };

	a.self = lx_this_task();
	if (IS_ERR(a.self)) {
		/* no task to drop them from: tag, and keep the references */
		lx_kernel_fork_child(anchor, main, host_pid);
		return;
	}
	lx_task_call(a.self, tag_body, &a);
}

/* The host fork failed: the prepared process dies unborn. */
void lx_kernel_fork_cancel(void *anchor, void *main)
{
	lx_kernel_fork_parent(anchor, main, -1);
	lx_kernel_process_died(-1);
}

static bool on_task_stack(struct task_struct *t, unsigned long sp)
{
	unsigned long base = (unsigned long)task_stack_page(t);

	return sp > base && sp <= base + THREAD_SIZE;
}

static long orphan_exit_body(void *arg)
{
	struct task_struct *t = arg;

	/* NULL: t was current already, no switch to finish */
	if (t->thread.prev_sched)
		schedule_tail(t->thread.prev_sched);
	do_group_exit(SIGKILL);
}

/* The adopter thread's loop (home process): run orphans until they die. */
static struct lx_jmp adopter_jb;

void lx_orphan_parked(void)
{
	lx_longjmp(&adopter_jb);
}

void lx_kernel_adopter(void)
{
	struct task_struct *t;
	struct lx_jmp exit_jb;
	unsigned int seen;

	for (;;) {
		for (;;) {
			seen = __atomic_load_n(&lx_adopt_count, __ATOMIC_ACQUIRE);
			t = __atomic_exchange_n(&lx_adopt_next, NULL,
						__ATOMIC_ACQUIRE);
			if (t)
				break;
			if (READ_ONCE(lx_halting))
				return;
			lx_host->futex_wait(&lx_adopt_count, seen);
		}
		/* the scheduler handed us the CPU along with t */
		WRITE_ONCE(lx_cpu_holder, lx_host->host_pid());
		if (lx_setjmp(&exit_jb)) {
			/* t died and switched to the next task */
			lx_wake_dead_next();
			continue;
		}
		t->thread.exit_jb = &exit_jb;
		if (lx_setjmp(&adopter_jb))
			continue;	/* t waits again (lx_task_park()) */
		/* resumable where it waited, if that was on its kernel stack */
		if (t->thread.parked && on_task_stack(t, lx_park_jb(t)->rsp))
			lx_longjmp(lx_park_jb(t));
		lx_call_on_stack(orphan_exit_body, t, lx_stack_top(t));
	}
}

/*
 * Host process host_pid is gone (the home process's watcher saw it).
 * Returns 0, or -EDEADLK if it died holding the CPU: the kernel cannot go
 * on.
 */
int lx_kernel_process_died(int host_pid)
{
	struct task_struct *g, *t;
	bool found = false;
	int tries;

	/*
	 * The holder is written just after the CPU is taken: a process seen
	 * holding it must still hold it a while later to be the one.
	 */
	for (tries = 0; lx_cpu_held_by(host_pid); tries++) {
		if (tries == 100)
			return -EDEADLK;
		lx_host->sleep_us(1000);
	}
	lx_cpu_take();
	/*
	 * A task that died in a host call of a system call (fuseref.c's
	 * host_io()) left kernel frames, and the locks they hold, on its
	 * stack with no point to resume them at: as if it had died holding
	 * the CPU.
	 */
	for_each_process_thread(g, t)
		if (t->thread.host_pid == host_pid && !t->exit_state &&
		    (t->thread.flags & LX_THREAD_HOSTIO)) {
			lx_cpu_release();
			return -EDEADLK;
		}
	for_each_process_thread(g, t) {
		if (t->thread.host_pid != host_pid || t->exit_state ||
		    (t->thread.flags & (LX_THREAD_ORPHAN | LX_THREAD_KERNEL)))
			continue;
		t->thread.flags |= LX_THREAD_ORPHAN;
		/*
		 * Its user memory died with its process: the adopter must not
		 * clear a child tid or walk a robust list at those addresses
		 * in the home process (lx_access_ok() refuses orphans too).
		 */
		t->clear_child_tid = NULL;
		t->set_child_tid = NULL;
		t->robust_list = NULL;
		found = true;
	}
	if (!found) {
		lx_cpu_release();
		return 0;
	}
	for_each_process_thread(g, t) {
		if (!(t->thread.flags & LX_THREAD_ORPHAN) || t->exit_state)
			continue;
		/* wakes it if it waits killably inside the kernel */
		send_sig_info(SIGKILL, SEND_SIG_PRIV, t);
		/* in user code: it runs its exit when next scheduled */
		if (!t->thread.parked && t != current)
			wake_up_state(t, TASK_PARKED);
	}
	if (current->thread.flags & LX_THREAD_ORPHAN) {
		/* current was in user code: the adopter goes on as it */
		current->thread.prev_sched = NULL;
		lx_task_wake(current);
		return 0;
	}
	/*
	 * The orphans just woken run now, on the adopter: the caller (the
	 * watcher) has no task to go on as, and lx_cpu_release() schedules
	 * only after an interrupt, so they would otherwise wait for the next
	 * one, and a parent in wait4() with them.
	 */
	if (!(need_resched() && lx_become(NULL)))
		lx_cpu_release();
	return 0;
}
