// SPDX-License-Identifier: GPL-2.0
/*
 * confine.c - the host system calls a program process may make
 * (DESIGN.md decision 8).
 *
 * A program's own system calls go to lx; the host sees only lx's code
 * in the program process, and that code needs few calls: memory, futex,
 * threads, signals, time, and I/O on descriptors it already holds (hostfd
 * files, the socket to its home process).  Nothing that names a host path
 * is allowed: files are the home process's business.  Everything else
 * fails with ENOSYS, without running - also for a program that bypasses
 * the redirection on purpose (by jumping into lx's gate, or by switching
 * Syscall User Dispatch off through lx's thread block, which is in its
 * address space), and for the x32 and i386 (int $0x80) entries.
 *
 * docs/CONFINEMENT.md lists every call with the reason for it; keep the
 * two in step.  LX_SECCOMP=log makes denied calls run and be logged by
 * the host kernel instead (to find what a new code path needs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "guest.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif

/* Allowed whatever their arguments. */
static const int plain[] = {
	/* memory: the program's (DESIGN.md decision 2) and lx's own */
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect),
	SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(brk),
	SCMP_SYS(msync), SCMP_SYS(mlock), SCMP_SYS(mlock2), SCMP_SYS(munlock),
	SCMP_SYS(mlockall), SCMP_SYS(munlockall), SCMP_SYS(membarrier),
	/* kernel CPU hand-over, device kicks, thread joins, and the
	 * program's own futex words (dispatch.c) */
	SCMP_SYS(futex), SCMP_SYS(futex_waitv),
	/* threads: the host side of a program's clone(CLONE_THREAD) */
	SCMP_SYS(set_robust_list), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(sched_yield),
	/* glibc registers every new host thread as the first one was */
	SCMP_SYS(rseq),
	/* signals: the gate (SIGSYS), uaccess faults (SIGSEGV, SIGBUS) */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall),
	/* time: the kernel's clock and its one-shot timer (timerfd) */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
	/* the program's CPU time is the host's (dispatch.c) */
	SCMP_SYS(getrusage), SCMP_SYS(times), SCMP_SYS(getitimer),
	SCMP_SYS(timer_create), SCMP_SYS(timer_settime),
	SCMP_SYS(timer_gettime), SCMP_SYS(timer_getoverrun),
	SCMP_SYS(timer_delete),
	SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(timerfd_settime),
	SCMP_SYS(getrandom),
	/* I/O on descriptors held: hostfd files, the home's socket, stderr */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv),
	SCMP_SYS(pwritev), SCMP_SYS(preadv2), SCMP_SYS(lseek),
	SCMP_SYS(fstat),
	SCMP_SYS(fcntl), SCMP_SYS(close), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(ftruncate),
	/* arming a hostfd on the home process's poller (a shared epoll) */
	SCMP_SYS(epoll_ctl),
	/* host memory behind a program's memfd (hostfd file) */
	SCMP_SYS(memfd_create),
};

static int allow(scmp_filter_ctx ctx, int nr, unsigned int n,
		 struct scmp_arg_cmp *cmp)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

/*
 * Install the filter on the calling thread (the program process's only
 * thread: its threads inherit it).  Returns 0 or -errno.
 */
int lx_guest_confine(void)
{
	const char *mode = getenv("LX_SECCOMP");
	uint32_t deny = SCMP_ACT_ERRNO(ENOSYS);
	pid_t self = getpid();
	scmp_filter_ctx ctx;
	unsigned int i;
	int r = 0;

	if (mode && !strcmp(mode, "log"))
		deny = SCMP_ACT_LOG;
	ctx = seccomp_init(deny);
	if (!ctx)
		return -ENOMEM;
	/* x32 and i386 calls: the same answer as an unknown call */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny);
	/*
	 * a binary tree of the numbers, not a list: lx's own host calls
	 * (a program's futex wake, mmap) pass the filter in a few steps
	 */
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (i = 0; !r && i < sizeof(plain) / sizeof(plain[0]); i++)
		r = allow(ctx, plain[i], 0, NULL);
	if (r)
		goto out;
	/*
	 * ioctl on hostfd files (a tty's window size and modes), but never
	 * one that types into or takes over the engine's terminal
	 */
	r = allow(ctx, SCMP_SYS(ioctl), 1,
		  (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_LT, TIOCSTI) });
	if (!r)
		r = allow(ctx, SCMP_SYS(ioctl), 1,
			  (struct scmp_arg_cmp[]){
				  SCMP_A1(SCMP_CMP_GT, TIOCLINUX) });
	/* one rule a value: libseccomp takes one comparison an argument */
	for (i = TIOCSTI + 1; !r && i < TIOCLINUX; i++)
		r = allow(ctx, SCMP_SYS(ioctl), 1,
			  (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_EQ, i) });
	/* fstat() of glibc: newfstatat(fd, "", st, AT_EMPTY_PATH) only */
	if (!r)
		r = allow(ctx, SCMP_SYS(newfstatat), 1,
			  (struct scmp_arg_cmp[]){
				  SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH) });
	/* a thread of this process, never a new process */
	if (!r)
		r = allow(ctx, SCMP_SYS(clone), 1,
			  (struct scmp_arg_cmp[]){
				  SCMP_A0(SCMP_CMP_MASKED_EQ,
					  CLONE_THREAD | CLONE_VM,
					  CLONE_THREAD | CLONE_VM) });
	/* Syscall User Dispatch for a new program thread */
	if (!r)
		r = allow(ctx, SCMP_SYS(prctl), 1,
			  (struct scmp_arg_cmp[]){
				  SCMP_A0(SCMP_CMP_EQ,
					  PR_SET_SYSCALL_USER_DISPATCH) });
	/* the CPU-time itimers (ITIMER_REAL is lx's) */
	if (!r)
		r = allow(ctx, SCMP_SYS(setitimer), 1,
			  (struct scmp_arg_cmp[]){
				  SCMP_A0(SCMP_CMP_NE, ITIMER_REAL) });
	/* RLIMIT_CPU of this process, which the host enforces */
	if (!r)
		r = allow(ctx, SCMP_SYS(prlimit64), 2,
			  (struct scmp_arg_cmp[]){
				  SCMP_A0(SCMP_CMP_EQ, 0),
				  SCMP_A1(SCMP_CMP_EQ, RLIMIT_CPU) });
	/* signals to this process's own threads (abort, pthread_kill) */
	if (!r)
		r = allow(ctx, SCMP_SYS(tgkill), 1,
			  (struct scmp_arg_cmp[]){
				  SCMP_A0(SCMP_CMP_EQ, self) });
	/*
	 * arch_prctl(ARCH_GET_FS) writes, clone3() reads program memory
	 * through the host (a bad pointer is EFAULT): own memory only
	 */
	if (!r)
		r = allow(ctx, SCMP_SYS(process_vm_writev), 1,
			  (struct scmp_arg_cmp[]){
				  SCMP_A0(SCMP_CMP_EQ, self) });
	if (!r)
		r = allow(ctx, SCMP_SYS(process_vm_readv), 1,
			  (struct scmp_arg_cmp[]){
				  SCMP_A0(SCMP_CMP_EQ, self) });
	if (!r)
		r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r;
}
