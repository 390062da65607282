// SPDX-License-Identifier: GPL-2.0
/*
 * Signal frames from lx_syscall_regs(): the rt_sigframe lx writes for a
 * set of registers matches, field by field, the one the host kernel writes
 * for the same registers on the same alternate stack; rt_sigreturn brings
 * the registers and the mask back; SA_RESTART restarts, its absence gives
 * -EINTR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <unistd.h>
#include <asm/ptrace.h>

#include <lx/lx.h>

#include "tap.h"
#include "util.h"

#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

/* The kernel's struct sigaction on x86-64. */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

#define KSA_RESTORER 0x04000000

static unsigned char altstack[64 * 1024] __attribute__((aligned(64)));
static unsigned char snapshot[sizeof(altstack)];
static unsigned long usr1_mask = SIGBIT(SIGUSR1);
static ucontext_t *host_uc;
static siginfo_t *host_info;

static void host_handler(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	host_info = info;
	host_uc = ctx;
	memcpy(snapshot, altstack, sizeof(altstack));
}

/* Unblock SIGUSR1 with a raw syscall and known values in the registers. */
static void host_unblock(void)
{
	register long r8 asm("r8") = 0x0808080808080808;
	register long r9 asm("r9") = 0x0909090909090909;
	register long r10 asm("r10") = 8;
	register long r12 asm("r12") = 0x1212121212121212;
	register long r13 asm("r13") = 0x1313131313131313;
	register long r14 asm("r14") = 0x1414141414141414;
	register long r15 asm("r15") = 0x1515151515151515;
	long rax = SYS_rt_sigprocmask;

	asm volatile("syscall"
		     : "+a"(rax)
		     : "D"(SIG_UNBLOCK), "S"(&usr1_mask), "d"(0), "r"(r10),
		       "r"(r8), "r"(r9), "r"(r12), "r"(r13), "r"(r14),
		       "r"(r15), "b"(0x0b0b0b0b0b0b0b0b)
		     : "rcx", "r11", "memory");
}

static long ksigaction(int sig, void *handler, unsigned long flags,
		       void *restorer)
{
	struct ksigaction ka = { handler, flags | KSA_RESTORER, restorer, 0 };

	return lx_syscall4(SYS_rt_sigaction, sig, &ka, NULL, KSIGSET_SIZE);
}

static void regs_from_host(struct pt_regs *r, const greg_t *g)
{
	memset(r, 0, sizeof(*r));
	r->r8 = g[REG_R8];
	r->r9 = g[REG_R9];
	r->r10 = g[REG_R10];
	r->r11 = g[REG_R11];
	r->r12 = g[REG_R12];
	r->r13 = g[REG_R13];
	r->r14 = g[REG_R14];
	r->r15 = g[REG_R15];
	r->rdi = g[REG_RDI];
	r->rsi = g[REG_RSI];
	r->rbp = g[REG_RBP];
	r->rbx = g[REG_RBX];
	r->rdx = g[REG_RDX];
	r->rax = g[REG_RAX];
	r->rcx = g[REG_RCX];
	r->rsp = g[REG_RSP];
	r->rip = g[REG_RIP];
	r->eflags = g[REG_EFL];
	r->cs = 0x33;
	r->ss = 0x2b;
}

static void test_frame_matches_host(void)
{
	struct sigaction sa = { .sa_sigaction = host_handler,
				.sa_flags = SA_SIGINFO | SA_ONSTACK };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	static const char *const names[] = {
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi",
		"rsi", "rbp", "rbx", "rdx", "rax", "rcx", "rsp", "rip", "efl",
		"csgsfs", "err", "trapno", "oldmask", "cr2"
	};
	ucontext_t *luc, *huc;
	struct _fpx_sw_bytes *lsw, *hsw;
	unsigned long frame, host_frame, off, mask = 0;
	struct pt_regs regs, saved;
	void *restorer;
	sigset_t block;
	int i;

	/* 1. the host delivers SIGUSR1 on the alternate stack */
	sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	kill(getpid(), SIGUSR1);
	host_unblock();
	if (!CHECK(host_uc != NULL, "the host delivered no signal"))
		return;
	host_frame = (unsigned long)host_uc - 8;
	restorer = *(void **)host_frame;
	regs_from_host(&saved, host_uc->uc_mcontext.gregs);
	memset(altstack, 0, sizeof(altstack));

	/* 2. lx delivers the same signal for the same registers */
	CHECK_EQ(lx_syscall2(SYS_sigaltstack, &ss, NULL), 0);
	CHECK_EQ(ksigaction(SIGUSR1, (void *)host_handler,
			    SA_SIGINFO | SA_ONSTACK, restorer), 0);
	CHECK_EQ(lx_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, &usr1_mask, NULL,
			     KSIGSET_SIZE), 0);
	CHECK_EQ(lx_syscall2(SYS_kill, lx_syscall0(SYS_getpid), SIGUSR1), 0);
	regs = saved;
	regs.orig_rax = SYS_rt_sigprocmask;
	lx_syscall_regs(&regs);

	frame = regs.rsp;
	CHECK(frame == host_frame, "frame at %#lx, the host's at %#lx", frame,
	      host_frame);
	CHECK_EQ(regs.rip, (unsigned long)host_handler);
	CHECK_EQ(regs.rdi, SIGUSR1);
	CHECK_EQ(regs.rsi, (unsigned long)host_info);
	CHECK_EQ(regs.rdx, (unsigned long)host_uc);
	CHECK_EQ(regs.rax, 0);
	if (frame != host_frame)
		return;

	/* 3. field by field, the frames */
	luc = (ucontext_t *)(frame + 8);
	huc = (ucontext_t *)(snapshot + ((unsigned long)host_uc -
					 (unsigned long)altstack));
	off = frame - (unsigned long)altstack;
	CHECK(!memcmp(altstack + off, snapshot + off, 8), "pretcode");
	CHECK_EQ(luc->uc_flags, huc->uc_flags);
	CHECK_EQ((long)luc->uc_link, (long)huc->uc_link);
	CHECK_EQ((long)luc->uc_stack.ss_sp, (long)huc->uc_stack.ss_sp);
	CHECK_EQ(luc->uc_stack.ss_flags, huc->uc_stack.ss_flags);
	CHECK_EQ(luc->uc_stack.ss_size, huc->uc_stack.ss_size);
	for (i = 0; i < NGREG; i++)
		CHECK(luc->uc_mcontext.gregs[i] == huc->uc_mcontext.gregs[i],
		      "sigcontext %s: lx %#llx, host %#llx", names[i],
		      (long long)luc->uc_mcontext.gregs[i],
		      (long long)huc->uc_mcontext.gregs[i]);
	CHECK_EQ((long)luc->uc_mcontext.fpregs, (long)huc->uc_mcontext.fpregs);
	CHECK(!memcmp(&luc->uc_sigmask, &huc->uc_sigmask, 8), "uc_sigmask");
	{
		siginfo_t *li = (siginfo_t *)(frame + ((unsigned long)host_info -
						       host_frame));
		siginfo_t *hi = (siginfo_t *)(snapshot +
					      ((unsigned long)host_info -
					       (unsigned long)altstack));

		CHECK_EQ(li->si_signo, hi->si_signo);
		CHECK_EQ(li->si_errno, hi->si_errno);
		CHECK_EQ(li->si_code, hi->si_code);
		CHECK_EQ(li->si_uid, hi->si_uid);
		CHECK_EQ(li->si_pid, lx_syscall0(SYS_getpid));
	}
	/* the XSAVE image: its software bytes, its size and closing magic */
	off = (unsigned long)luc->uc_mcontext.fpregs - (unsigned long)altstack;
	CHECK(off % 64 == 0, "fpstate at %#lx is not 64-byte aligned", off);
	lsw = (struct _fpx_sw_bytes *)(altstack + off + 464);
	hsw = (struct _fpx_sw_bytes *)(snapshot + off + 464);
	CHECK_EQ(lsw->magic1, FP_XSTATE_MAGIC1);
	CHECK_EQ(lsw->magic1, hsw->magic1);
	CHECK_EQ(lsw->extended_size, hsw->extended_size);
	CHECK_EQ((long)lsw->xstate_bv, (long)hsw->xstate_bv);
	CHECK_EQ(lsw->xstate_size, hsw->xstate_size);
	CHECK_EQ(*(unsigned int *)(altstack + off + lsw->xstate_size),
		 FP_XSTATE_MAGIC2);
	/* the XSAVE header marks FP and SSE, as the host's does */
	CHECK((*(unsigned long *)(altstack + off + 512) & 3) == 3,
	      "xstate_bv %#lx", *(unsigned long *)(altstack + off + 512));
	/* the frame fits in what the host says a signal stack needs */
	CHECK(sizeof(altstack) - (frame - (unsigned long)altstack) <=
	      getauxval(AT_MINSIGSTKSZ) + 64,
	      "frame takes %lu bytes, AT_MINSIGSTKSZ is %lu",
	      sizeof(altstack) - (frame - (unsigned long)altstack),
	      getauxval(AT_MINSIGSTKSZ));

	/* 4. rt_sigreturn, as the handler's return makes it */
	memset(&regs, 0, sizeof(regs));
	regs.rsp = frame + 8;
	regs.rip = (unsigned long)restorer + 7;
	regs.orig_rax = SYS_rt_sigreturn;
	lx_syscall_regs(&regs);
	CHECK_EQ(regs.r8, saved.r8);
	CHECK_EQ(regs.r12, saved.r12);
	CHECK_EQ(regs.r15, saved.r15);
	CHECK_EQ(regs.rbx, saved.rbx);
	CHECK_EQ(regs.rbp, saved.rbp);
	CHECK_EQ(regs.rdi, saved.rdi);
	CHECK_EQ(regs.rsi, saved.rsi);
	CHECK_EQ(regs.rdx, saved.rdx);
	CHECK_EQ(regs.rax, saved.rax);
	CHECK_EQ(regs.rsp, saved.rsp);
	CHECK_EQ(regs.rip, saved.rip);
	CHECK_EQ(lx_syscall4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask,
			     KSIGSET_SIZE), 0);
	CHECK(!(mask & SIGBIT(SIGUSR1)), "mask %#lx after sigreturn", mask);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	lx_syscall2(SYS_sigaltstack, &ss, NULL);
}

static int restart_pipe[2];
static long restart_tid;

static void *send_usr2(void *arg)
{
	(void)arg;
	usleep(50000);
	lx_syscall3(SYS_tgkill, lx_syscall0(SYS_getpid), restart_tid,
		    SIGUSR2);
	return NULL;
}

static void usr2_handler(int sig)
{
	(void)sig;
}

/* A read blocked in lx is interrupted by a handled signal. */
static void blocked_read(unsigned long flags)
{
	static unsigned char stack[16384] __attribute__((aligned(16)));
	struct pt_regs regs = { 0 };
	unsigned long fake_ip = 0x100000;
	struct sigcontext *sc;
	pthread_t th;
	char c;

	must(lx_syscall2(SYS_pipe2, restart_pipe, 0));
	restart_tid = lx_syscall0(SYS_gettid);
	CHECK_EQ(ksigaction(SIGUSR2, (void *)usr2_handler, flags,
			    (void *)0x200000), 0);
	pthread_create(&th, NULL, send_usr2, NULL);
	regs.orig_rax = SYS_read;
	regs.rdi = restart_pipe[0];
	regs.rsi = (unsigned long)&c;
	regs.rdx = 1;
	regs.rip = fake_ip;
	regs.rsp = (unsigned long)(stack + sizeof(stack));
	regs.cs = 0x33;
	regs.ss = 0x2b;
	lx_syscall_regs(&regs);
	pthread_join(th, NULL);
	CHECK_EQ(regs.rip, (unsigned long)usr2_handler);
	CHECK_EQ(regs.rdi, SIGUSR2);
	sc = (struct sigcontext *)(regs.rsp + 8 +
				   offsetof(ucontext_t, uc_mcontext));
	if (flags & SA_RESTART) {
		/* rewound to the syscall instruction, number back in rax */
		CHECK_EQ(sc->rip, fake_ip - 2);
		CHECK_EQ(sc->rax, SYS_read);
	} else {
		CHECK_EQ(sc->rip, fake_ip);
		CHECK_EQ((long)sc->rax, -EINTR);
	}
	/* the handler returns: SIGUSR2, blocked while it ran, is not any more */
	regs.rsp += 8;
	regs.orig_rax = SYS_rt_sigreturn;
	lx_syscall_regs(&regs);
	CHECK_EQ(regs.rip, (flags & SA_RESTART) ? fake_ip - 2 : fake_ip);
	lx_syscall1(SYS_close, restart_pipe[0]);
	lx_syscall1(SYS_close, restart_pipe[1]);
}

static void test_sa_restart(void)
{
	blocked_read(SA_RESTART);
}

static void test_eintr(void)
{
	blocked_read(0);
}

/*
 * A plain lx_syscall() caller that never ran user code (a thread of the
 * home process): the handler is not run, the call ends.
 */
static void *plain_sleeper(void *arg)
{
	struct timespec ts = { 5, 0 };
	pthread_t th;

	(void)arg;
	restart_tid = lx_syscall0(SYS_gettid);
	pthread_create(&th, NULL, send_usr2, NULL);
	CHECK_EQ(lx_syscall2(SYS_nanosleep, &ts, NULL), -EINTR);
	pthread_join(th, NULL);
	return NULL;
}

/*
 * One that did (lx's own call in a program's thread, guest/ telling lx
 * of a mapping, say): the signal waits, the call is not interrupted,
 * and the thread's next way back to user code takes it.
 */
static void test_plain_caller(void)
{
	static unsigned char stack[16384] __attribute__((aligned(16)));
	struct timespec ts = { 0, 300000000 };
	struct pt_regs regs = { 0 };
	pthread_t th;

	CHECK_EQ(ksigaction(SIGUSR2, (void *)usr2_handler, 0,
			    (void *)0x200000), 0);
	pthread_create(&th, NULL, plain_sleeper, NULL);
	pthread_join(th, NULL);

	restart_tid = lx_syscall0(SYS_gettid);
	pthread_create(&th, NULL, send_usr2, NULL);
	CHECK_EQ(lx_syscall2(SYS_nanosleep, &ts, NULL), 0);
	pthread_join(th, NULL);
	regs.orig_rax = SYS_getppid;
	regs.rip = 0x100000;
	regs.rsp = (unsigned long)(stack + sizeof(stack));
	regs.cs = 0x33;
	regs.ss = 0x2b;
	lx_syscall_regs(&regs);
	CHECK_EQ(regs.rip, (unsigned long)usr2_handler);
	CHECK_EQ(regs.rdi, SIGUSR2);
}

int main(void)
{
	boot_kernel();
	tap_run("the rt_sigframe matches the host's, field by field; "
		"rt_sigreturn restores registers and mask",
		test_frame_matches_host);
	tap_run("SA_RESTART: a blocked read is rewound for restart",
		test_sa_restart);
	tap_run("no SA_RESTART: a blocked read returns -EINTR", test_eintr);
	tap_run("plain lx_syscall(): a handled signal ends a home thread's "
		"nanosleep with -EINTR, and waits for a program thread's "
		"return to its code", test_plain_caller);
	halt_kernel();
	return tap_done();
}
