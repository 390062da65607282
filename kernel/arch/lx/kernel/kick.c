// SPDX-License-Identifier: GPL-2.0
/*
 * kick.c - signals for program threads busy in user code.
 *
 * A program's thread runs its own code on its host thread, outside lx; it
 * enters lx only with a system call or a fault.  A signal sent to it
 * meanwhile (another thread's kill, a timer) would wait for that.  So a
 * host thread that wants it says so once (LX_SYS_KICKABLE: its host pid
 * and tid), and when a signal wakes its task while it runs outside lx,
 * the sender kicks it with a host signal (lx_host->kick()); guest/'s
 * handler enters lx from the interrupted user code (lx_user_entry()),
 * which delivers the signal as on the way back from an interrupt.
 */
#include <linux/hashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/thread_info.h>
#include <asm/lx.h>

struct kickable {
	struct hlist_node node;
	struct task_struct *task;
	int host_pid, host_tid;
};

static DEFINE_HASHTABLE(kickables, 8);
static DEFINE_SPINLOCK(kick_lock);

static struct kickable *find(struct task_struct *t)
{
	struct kickable *k;

	hash_for_each_possible(kickables, k, node, (unsigned long)t)
		if (k->task == t)
			return k;
	return NULL;
}

/* LX_SYS_KICKABLE(host_pid, host_tid): the calling task's host thread */
long lx_sys_kickable(int host_pid, int host_tid)
{
	struct kickable *k = kzalloc(sizeof(*k), GFP_KERNEL), *old;
	unsigned long flags;

	if (!k)
		return -ENOMEM;
	k->task = current;
	k->host_pid = host_pid;
	k->host_tid = host_tid;
	/* a program's thread: signals wait for its code (signal.c) */
	current->thread.flags |= LX_THREAD_USER;
	spin_lock_irqsave(&kick_lock, flags);
	old = find(current);
	if (old)
		hash_del(&old->node);
	hash_add(kickables, &k->node, (unsigned long)current);
	spin_unlock_irqrestore(&kick_lock, flags);
	kfree(old);
	return 0;
}

/* Send t's host thread the kick, if it has said it wants one. */
static void kick(struct task_struct *t)
{
	struct kickable *k;
	unsigned long flags;

	spin_lock_irqsave(&kick_lock, flags);
	k = find(t);
	if (k)
		lx_host->kick(k->host_pid, k->host_tid);
	spin_unlock_irqrestore(&kick_lock, flags);
}

/* kernel/signal.c: t was sent a signal and is not asleep in lx */
void arch_signal_kick(struct task_struct *t)
{
	/*
	 * On its own host thread, t is in lx: it takes the signal on its way
	 * out.  (current says nothing: a host thread that handles an
	 * interrupt may run as the task that last held the CPU.)
	 */
	if (lx_host->task_get() != t)
		kick(t);
}

/*
 * The calling thread will take its signals before it runs user code:
 * lx's own call it is in cannot (signal.c, lx_sigs_deferred()).
 */
void lx_kick_self(void)
{
	kick(current);
}

/* The task is going (exit_thread()). */
void lx_kick_forget(struct task_struct *t)
{
	struct kickable *k;
	unsigned long flags;

	spin_lock_irqsave(&kick_lock, flags);
	k = find(t);
	if (k)
		hash_del(&k->node);
	spin_unlock_irqrestore(&kick_lock, flags);
	kfree(k);
}

/*
 * On a timer interrupt: a thread busy in user code with a signal it has
 * not taken - one queued while it wanted none, say, which no wake-up
 * kicked - is kicked now, as an interrupt's return to user mode on its
 * CPU would deliver it on Linux.
 */
void lx_kick_pending(void)
{
	struct kickable *k;
	unsigned long flags;
	int bkt;

	spin_lock_irqsave(&kick_lock, flags);
	hash_for_each(kickables, bkt, k, node)
		if (k->task != lx_host->task_get() &&
		    READ_ONCE(k->task->__state) == TASK_RUNNING &&
		    (READ_ONCE(task_thread_info(k->task)->flags) &
		     (_TIF_SIGPENDING | _TIF_NOTIFY_SIGNAL)))
			lx_host->kick(k->host_pid, k->host_tid);
	spin_unlock_irqrestore(&kick_lock, flags);
}
