// SPDX-License-Identifier: GPL-2.0
/*
 * signal.c - signal delivery at the exit of a system call, on the caller's
 * x86-64 registers.
 *
 * A thread that enters with its user registers (lx_syscall_regs()) gets
 * what x86-64 Linux gives a program: an rt_sigframe on its stack (or
 * alternate stack) with a ucontext whose sigcontext holds the registers and
 * whose fpstate is the standard XSAVE image of the thread's FPU state, the
 * handler's registers in pt_regs, and rt_sigreturn to come back.  Kernel
 * code never touches vector registers, so the FPU state of the host thread
 * is the program's own: it is saved and restored with xsave/xrstor.
 *
 * A caller of lx_syscall() has no user context to run a handler in: a
 * handled signal is taken, its handler is not run, and the call returns
 * -EINTR (or is restarted, for SA_RESTART), as if the handler had run and
 * returned.  Default actions are Linux's own in both cases.
 */
#include <linux/entry-common.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/signal.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <asm/syscall.h>
#include <asm/ucontext.h>
#include <asm/unistd.h>
#include <asm/lx.h>

/* The flags rt_sigreturn takes from the frame (x86's FIX_EFLAGS). */
#define FIX_EFLAGS 0x40dd5

#define XFEATURE_MASK_FPSSE 0x3

struct rt_sigframe {
	char __user *pretcode;
	struct ucontext uc;
	struct siginfo info;
	/* the fpstate follows, 64-byte aligned */
};

/* The XSAVE layout of this CPU, from CPUID leaf 0xd (read at boot). */
static u64 xfeatures;
static u32 xstate_size;

/* An FPU image in its init state: what a handler starts with. */
static u8 init_xstate[4096] __aligned(64);

static void cpuid_count(u32 leaf, u32 sub, u32 *a, u32 *b, u32 *c, u32 *d)
{
	asm volatile("cpuid"
		     : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
		     : "a"(leaf), "c"(sub));
}

static int __init lx_fpu_init(void)
{
	u32 a, b, c, d, lo, hi;
	int i;

	cpuid_count(1, 0, &a, &b, &c, &d);
	if (!(c & (1U << 27)))	/* OSXSAVE */
		panic("lx: the CPU has no XSAVE enabled\n");
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	/*
	 * The features a program has without asking: AMX tile data (18) is
	 * given per process on request, as the host kernel does; the tile
	 * configuration (17) is in every frame, as on the host.
	 */
	xfeatures = (((u64)hi << 32) | lo) & ~(1ULL << 18);
	/* the standard layout ends with the last feature kept */
	xstate_size = 576;
	for (i = 2; i < 64; i++) {
		if (!(xfeatures & (1ULL << i)))
			continue;
		cpuid_count(0xd, i, &a, &b, &c, &d);
		xstate_size = max(xstate_size, a + b);
	}
	if (xstate_size > sizeof(init_xstate))
		panic("lx: XSAVE area of %u bytes\n", xstate_size);
	/* legacy area: FCW 0x37f, MXCSR 0x1f80; header: all components init */
	*(u16 *)&init_xstate[0] = 0x37f;
	*(u32 *)&init_xstate[24] = 0x1f80;
	return 0;
}
early_initcall(lx_fpu_init);

/* Bytes an XSAVE signal frame takes: the image and the closing magic. */
static unsigned long fpstate_frame_size(void)
{
	return xstate_size + FP_XSTATE_MAGIC2_SIZE;
}

/*
 * Save the thread's FPU state into the user's buffer.  The image is built
 * in kernel memory first, so a bad user pointer is only an -EFAULT.
 */
static int save_fpstate(void __user *buf)
{
	static u8 image[4096] __aligned(64);
	struct _fpx_sw_bytes sw = {
		.magic1 = FP_XSTATE_MAGIC1,
		.extended_size = fpstate_frame_size(),
		.xfeatures = xfeatures,
		.xstate_size = xstate_size,
	};
	u32 magic2 = FP_XSTATE_MAGIC2;
	u64 *header_bv = (u64 *)&image[512];

	/* the caller's state, if host code saved it away (lx_fpu_lazy) */
	lx_host->fpu_sync();
	/* the CPU holder alone uses image: one virtual CPU */
	memset(image + 512, 0, 64);
	asm volatile("xsave64 %0"
		     : "+m"(*(u8(*)[4096])image)
		     : "a"((u32)xfeatures), "d"((u32)(xfeatures >> 32)));
	/* as x86 does: FP and SSE are always marked present */
	*header_bv |= XFEATURE_MASK_FPSSE;
	memcpy(image + 464, &sw, sizeof(sw));
	if (copy_to_user(buf, image, xstate_size) ||
	    copy_to_user(buf + xstate_size, &magic2, sizeof(magic2)))
		return -EFAULT;
	return 0;
}

/* Load the thread's FPU state from a user buffer (rt_sigreturn). */
static int restore_fpstate(const void __user *buf)
{
	static u8 image[4096] __aligned(64);
	struct _fpx_sw_bytes *sw = (void *)(image + 464);
	u32 magic2;

	lx_host->fpu_sync();
	if (copy_from_user(image, buf, xstate_size))
		return -EFAULT;
	if (sw->magic1 != FP_XSTATE_MAGIC1 ||
	    sw->xstate_size != xstate_size ||
	    copy_from_user(&magic2, buf + xstate_size, sizeof(magic2)) ||
	    magic2 != FP_XSTATE_MAGIC2)
		return -EINVAL;
	/* what would fault xrstor: reserved MXCSR bits, unknown features */
	*(u32 *)&image[24] &= 0xffff;
	*(u64 *)&image[512] &= xfeatures;
	memset(image + 512 + 8, 0, 56);
	asm volatile("xrstor64 %0"
		     :
		     : "m"(*(u8(*)[4096])image), "a"((u32)xfeatures),
		       "d"((u32)(xfeatures >> 32)));
	return 0;
}

static void fpu_reset(void)
{
	lx_host->fpu_sync();
	asm volatile("xrstor64 %0"
		     :
		     : "m"(*(u8(*)[4096])init_xstate), "a"((u32)xfeatures),
		       "d"((u32)(xfeatures >> 32)));
}

static void __user *get_sigframe(struct ksignal *ksig, struct pt_regs *regs,
				 void __user **fpstate)
{
	unsigned long sp = regs->sp - 128;	/* the red zone */

	sp = sigsp(sp, ksig);
	sp = round_down(sp - fpstate_frame_size(), 64);
	*fpstate = (void __user *)sp;
	sp -= sizeof(struct rt_sigframe);
	sp = round_down(sp, 16) - 8;
	return (void __user *)sp;
}

static int setup_sigcontext(struct sigcontext __user *sc, void __user *fp,
			    struct pt_regs *regs, unsigned long mask)
{
	struct sigcontext c = {
		.r8 = regs->r8, .r9 = regs->r9, .r10 = regs->r10,
		.r11 = regs->r11, .r12 = regs->r12, .r13 = regs->r13,
		.r14 = regs->r14, .r15 = regs->r15,
		.di = regs->di, .si = regs->si, .bp = regs->bp,
		.bx = regs->bx, .dx = regs->dx, .ax = regs->ax,
		.cx = regs->cx, .sp = regs->sp, .ip = regs->ip,
		.flags = regs->flags,
		.cs = regs->cs, .ss = regs->ss,
		.trapno = current->thread.trap_nr,
		.err = current->thread.error_code,
		.cr2 = current->thread.cr2,
		.oldmask = mask,
		.fpstate = (unsigned long)fp,
	};

	return copy_to_user(sc, &c, sizeof(c)) ? -EFAULT : 0;
}

static int setup_rt_frame(struct ksignal *ksig, sigset_t *set,
			  struct pt_regs *regs)
{
	struct rt_sigframe __user *frame;
	void __user *fp;
	unsigned long flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS |
			      UC_STRICT_RESTORE_SS;

	/* x86-64 Linux returns through the restorer only */
	if (!(ksig->ka.sa.sa_flags & SA_RESTORER))
		return -EFAULT;
	frame = get_sigframe(ksig, regs, &fp);
	if (!access_ok(frame, (char __user *)fp + fpstate_frame_size() -
			      (char __user *)frame))
		return -EFAULT;
	if (save_fpstate(fp) ||
	    put_user((char __user *)ksig->ka.sa.sa_restorer,
		     &frame->pretcode) ||
	    put_user(flags, &frame->uc.uc_flags) ||
	    put_user(0UL, (unsigned long __user *)&frame->uc.uc_link) ||
	    __save_altstack(&frame->uc.uc_stack, regs->sp) ||
	    setup_sigcontext(&frame->uc.uc_mcontext, fp, regs, set->sig[0]) ||
	    copy_to_user(&frame->uc.uc_sigmask, set, sizeof(*set)))
		return -EFAULT;
	if ((ksig->ka.sa.sa_flags & SA_SIGINFO) &&
	    copy_siginfo_to_user(&frame->info, &ksig->info))
		return -EFAULT;

	regs->di = ksig->sig;
	regs->ax = 0;
	regs->si = (unsigned long)&frame->info;
	regs->dx = (unsigned long)&frame->uc;
	regs->ip = (unsigned long)ksig->ka.sa.sa_handler;
	regs->sp = (unsigned long)frame;
	regs->cs = LX_USER_CS;
	regs->ss = LX_USER_DS;
	return 0;
}

/* A system call interrupted by a signal with a handler: restart or EINTR. */
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

static void handle_signal(struct ksignal *ksig, struct pt_regs *regs)
{
	int failed;

	if (syscall_get_nr(current, regs) >= 0)
		restart_after_handler(ksig, regs);
	if (current->thread.flags & LX_THREAD_PLAIN) {
		/* no user context: the handler is not run, the mask stays */
		sigset_t saved = *sigmask_to_save();

		signal_setup_done(0, ksig, 0);
		set_current_blocked(&saved);
		return;
	}
	failed = setup_rt_frame(ksig, sigmask_to_save(), regs) < 0;
	if (!failed) {
		regs->flags &= ~(X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF);
		fpu_reset();
	}
	signal_setup_done(failed, ksig, 0);
}

void arch_do_signal_or_restart(struct pt_regs *regs)
{
	struct ksignal ksig;

	/*
	 * lx's own call (lx_syscall()) on a program's thread - guest/
	 * telling lx of a mapping, say - has no user context to run a
	 * handler on: the signal stays queued for the thread's way back to
	 * its code (lx_sigs_deferred()), and a wait is not interrupted.
	 * Threads of the home process have no code of their own to run it
	 * in: they drop it, as below.
	 */
	if ((current->thread.flags & (LX_THREAD_PLAIN | LX_THREAD_USER)) ==
		    (LX_THREAD_PLAIN | LX_THREAD_USER) &&
	    !fatal_signal_pending(current)) {
		clear_thread_flag(TIF_SIGPENDING);
		current->thread.flags |= LX_THREAD_SIGDEFER;
		goto restart;
	}
	if (get_signal(&ksig)) {
		handle_signal(&ksig, regs);
		return;
	}

	/* no handler: restart the interrupted call, as Linux does */
restart:
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

static int restore_sigcontext(struct pt_regs *regs,
			      struct sigcontext __user *usc)
{
	struct sigcontext sc;

	if (copy_from_user(&sc, usc, sizeof(sc)))
		return -EFAULT;
	regs->r8 = sc.r8;
	regs->r9 = sc.r9;
	regs->r10 = sc.r10;
	regs->r11 = sc.r11;
	regs->r12 = sc.r12;
	regs->r13 = sc.r13;
	regs->r14 = sc.r14;
	regs->r15 = sc.r15;
	regs->di = sc.di;
	regs->si = sc.si;
	regs->bp = sc.bp;
	regs->bx = sc.bx;
	regs->dx = sc.dx;
	regs->ax = sc.ax;
	regs->cx = sc.cx;
	regs->sp = sc.sp;
	regs->ip = sc.ip;
	regs->flags = (regs->flags & ~FIX_EFLAGS) | (sc.flags & FIX_EFLAGS);
	regs->cs = LX_USER_CS;
	regs->ss = LX_USER_DS;
	/* no syscall restart after sigreturn */
	regs->orig_ax = -1;
	if (sc.fpstate)
		return restore_fpstate((void __user *)sc.fpstate);
	return 0;
}

SYSCALL_DEFINE0(rt_sigreturn)
{
	struct pt_regs *regs = current_pt_regs();
	struct rt_sigframe __user *frame;
	sigset_t set;

	/* the handler's ret popped pretcode */
	frame = (struct rt_sigframe __user *)(regs->sp - sizeof(long));
	if (copy_from_user(&set, &frame->uc.uc_sigmask, sizeof(set)))
		goto badframe;
	set_current_blocked(&set);
	if (restore_sigcontext(regs, &frame->uc.uc_mcontext) ||
	    restore_altstack(&frame->uc.uc_stack))
		goto badframe;
	return regs->ax;

badframe:
	force_sig(SIGSEGV);
	return 0;
}

/*
 * The end of lx's own call on a program's thread: the signals it left
 * queued are pending again, and the thread is kicked so that it takes
 * them before it runs its code.
 */
void lx_sigs_deferred(void)
{
	if (!(current->thread.flags & LX_THREAD_SIGDEFER))
		return;
	current->thread.flags &= ~LX_THREAD_SIGDEFER;
	spin_lock_irq(&current->sighand->siglock);
	recalc_sigpending();
	spin_unlock_irq(&current->sighand->siglock);
	if (signal_pending(current))
		lx_kick_self();
}

/*
 * LX_SYS_CPU_SIGNAL: the host counts a program process's CPU time (lx's
 * kernel sees only its own), so the host runs its CPU-time itimers and
 * RLIMIT_CPU; what they send, lx sends to the process as its own timers
 * would: SEND_SIG_PRIV, to the thread group.
 */
long lx_sys_cpu_signal(int sig)
{
	if (sig != SIGVTALRM && sig != SIGPROF && sig != SIGXCPU &&
	    sig != SIGKILL)	/* RLIMIT_CPU's hard limit */
		return -EINVAL;
	return kill_pid_info(sig, SEND_SIG_PRIV, task_tgid(current));
}

/* LX_SYS_CPU_TIMER: a program's CPU-clock posix timer, on the host, fired */
long lx_sys_cpu_timer(int sig, int timerid, int overrun, unsigned long value,
		      pid_t tid)
{
	struct kernel_siginfo info;
	struct task_struct *t;
	long ret = -ESRCH;

	if (sig <= 0 || !valid_signal(sig))
		return -EINVAL;
	clear_siginfo(&info);
	info.si_signo = sig;
	info.si_code = SI_TIMER;
	info.si_tid = timerid;
	info.si_overrun = overrun;
	info.si_value.sival_ptr = (void __user *)value;
	if (!tid)
		return kill_pid_info(sig, &info, task_tgid(current));
	rcu_read_lock();
	t = find_task_by_vpid(tid);
	if (t && same_thread_group(t, current))
		ret = send_sig_info(sig, &info, t);
	rcu_read_unlock();
	return ret;
}
