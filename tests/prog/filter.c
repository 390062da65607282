// SPDX-License-Identifier: GPL-2.0
/*
 * filter.c - a program under a seccomp filter of its own, as libseccomp
 * builds them: x86-64 calls only (the x32 range and other architectures
 * kill the process).  What it does afterwards - map memory, start and
 * join a thread, a futex wait a timer interrupts - must still work, and
 * the filter must still stop a call it refuses, in the thread too.  Inside lx the filter is
 * in lx's kernel, where lx's own calls made for the program (guest/
 * telling lx of a mapping, turning a kicked wait into EINTR) must not
 * meet it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prog.h"

/* the uapi's (linux/filter.h, seccomp.h, audit.h), for musl's headers too */
struct sock_filter {
	unsigned short code;
	unsigned char jt, jf;
	unsigned int k;
};

struct sock_fprog {
	unsigned short len;
	struct sock_filter *filter;
};

#define BPF_STMT(code, k) { (unsigned short)(code), 0, 0, k }
#define BPF_JUMP(code, k, jt, jf) { (unsigned short)(code), jt, jf, k }
#define BPF_LD_W_ABS 0x20	/* BPF_LD | BPF_W | BPF_ABS */
#define BPF_JEQ_K 0x15		/* BPF_JMP | BPF_JEQ | BPF_K */
#define BPF_JGE_K 0x35		/* BPF_JMP | BPF_JGE | BPF_K */
#define BPF_RET_K 0x06		/* BPF_RET | BPF_K */
#define SECCOMP_MODE_FILTER 2
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#define SECCOMP_RET_ERRNO 0x00050000U
#define SECCOMP_RET_ALLOW 0x7fff0000U
#define AUDIT_ARCH_X86_64 0xc000003eU
#define SECCOMP_DATA_NR 0	/* offsetof(struct seccomp_data, nr) */
#define SECCOMP_DATA_ARCH 4
#define FUTEX_WAIT_PRIVATE 128

static volatile int flag;

static void on_sig(int sig)
{
	(void)sig;
	flag = 1;
}

/* a thread inherits its creator's filters: the call is refused here too */
static void *refused_here(void *arg)
{
	long r = syscall(SYS_getpriority, 0, 0);

	printf("the same call in a thread made after: %s\n",
	       r == -1 ? prog_errname(errno) : "0");
	return arg;
}

int main(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD_W_ABS, SECCOMP_DATA_ARCH),
		BPF_JUMP(BPF_JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD_W_ABS, SECCOMP_DATA_NR),
		/* the x32 range: killed, as libseccomp's filters do */
		BPF_JUMP(BPF_JGE_K, 0x40000000, 0, 1),
		BPF_STMT(BPF_RET_K, SECCOMP_RET_KILL_PROCESS),
		/*
		 * refused calls, to see the filter works: none a libc makes
		 * to start a thread (gettid and set_tid_address neither), so
		 * threads must start as on Linux
		 */
		BPF_JUMP(BPF_JEQ_K, SYS_getpriority, 3, 0),
		BPF_JUMP(BPF_JEQ_K, SYS_gettid, 2, 0),
		BPF_JUMP(BPF_JEQ_K, SYS_set_tid_address, 1, 0),
		BPF_STMT(BPF_RET_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	static unsigned int word;
	pthread_t t;
	void *p;
	long r;

	TRYSYS(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	TRYSYS(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
	r = syscall(SYS_getpriority, 0, 0);
	printf("a refused call: %s\n", r == -1 ? prog_errname(errno) : "0");
	r = syscall(SYS_gettid);
	printf("gettid, refused: %s\n", r == -1 ? prog_errname(errno) : "a tid");

	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap and munmap: %s\n",
	       prog_yes(p != MAP_FAILED && !munmap(p, 1 << 20)));
	printf("a thread made and joined: %s\n",
	       prog_yes(!pthread_create(&t, NULL, refused_here, NULL) &&
			!pthread_join(t, NULL)));
	prog_handle(SIGALRM, on_sig, 0);
	prog_arm_timer(50000);
	r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	printf("a futex wait, SIGALRM at 50 ms: %s, handler ran: %s\n",
	       r == -1 ? prog_errname(errno) : "0", prog_yes(flag));
	return prog_done();
}
