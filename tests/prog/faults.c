// SPDX-License-Identifier: GPL-2.0
/*
 * faults.c - the program's own faults go to its own handlers, with the
 * siginfo Linux gives: SIGSEGV at a bad address (a handler that longjmps
 * out, and one that mprotects the page and returns so that the store is
 * made again), SIGFPE from a division by zero, SIGILL from ud2, SIGTRAP
 * from int3, the signal mask after siglongjmp, a fault on a stack that
 * overflowed handled on a sigaltstack; "default": no handler, SIGSEGV
 * ends the program (status 139 from the shell).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "prog.h"

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static void *volatile got_addr;
static volatile void *on_stack;

/* the sigcontext's trap number, error code and cr2 of the last fault */
static volatile unsigned long got_trap[3];

static void jump_handler(int sig, siginfo_t *si, void *uc)
{
	const mcontext_t *mc = &((ucontext_t *)uc)->uc_mcontext;
	int local;

	got_trap[0] = mc->gregs[REG_TRAPNO];
	got_trap[1] = mc->gregs[REG_ERR];
	got_trap[2] = mc->gregs[REG_CR2];
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	on_stack = &local;
	siglongjmp(jb, 1);
}

static volatile char *page;

/* make the page writable and return: the store is made again */
static void fix_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_addr = si->si_addr;
	mprotect((void *)page, 4096, PROT_READ | PROT_WRITE);
}

static void on(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	TRYSYS(sigaction(sig, &sa, NULL));
}

/* deep enough to run off any stack (1 GiB) */
static int recurse(volatile char *p, long depth)
{
	volatile char buf[4096];

	buf[0] = *p;
	if (depth > (1L << 18))
		return buf[0];
	return recurse(buf, depth + 1) + buf[1];
}

int main(int argc, char **argv)
{
	static char alt[64 * 1024];
	volatile int zero = 0, x;
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt) };
	sigset_t mask;

	if (argc > 1 && !strcmp(argv[1], "default")) {
		volatile int *volatile bad = (volatile int *)16;

		printf("a store to address 16, no handler\n");
		fflush(stdout);
		*bad = 1;
		return 0;
	}
	on(SIGSEGV, jump_handler, 0);
	on(SIGFPE, jump_handler, 0);
	on(SIGILL, jump_handler, 0);
	on(SIGTRAP, jump_handler, 0);

	if (!sigsetjmp(jb, 1))
		*(volatile int *)0x1234 = 1;
	printf("store to 0x1234: signal %d, code %d (SEGV_MAPERR %d), "
	       "address %p\n", got_sig, got_code, SEGV_MAPERR, got_addr);
	/* a page fault (14) of a user write to a page not present (6) */
	printf("its sigcontext: trapno %lu, err %lu, cr2 %#lx\n", got_trap[0],
	       got_trap[1], got_trap[2]);
	sigprocmask(SIG_SETMASK, NULL, &mask);
	printf("SIGSEGV blocked after siglongjmp: %s\n",
	       sigismember(&mask, SIGSEGV) ? "yes" : "no");

	page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TRY(page != MAP_FAILED, "mmap: %s", strerror(errno));
	if (!sigsetjmp(jb, 1))
		page[1] = 1;
	printf("store to a read-only page: signal %d, code %d (SEGV_ACCERR "
	       "%d), at the page: %s\n", got_sig, got_code, SEGV_ACCERR,
	       prog_yes(got_addr == page + 1));
	printf("its sigcontext: trapno %lu, err %lu, cr2 at the page: %s\n",
	       got_trap[0], got_trap[1],
	       prog_yes(got_trap[2] == (unsigned long)(page + 1)));

	on(SIGSEGV, fix_handler, 0);
	got_sig = 0;
	page[2] = 42;
	printf("handler made the page writable and returned: signal %d, "
	       "store made: %s\n", got_sig, prog_yes(page[2] == 42));

	on(SIGSEGV, jump_handler, 0);
	if (!sigsetjmp(jb, 1))
		x = 5 / zero;
	printf("division by zero: signal %d, code %d (FPE_INTDIV %d), "
	       "trapno %lu\n", got_sig, got_code, FPE_INTDIV, got_trap[0]);
	if (!sigsetjmp(jb, 1))
		__asm__ volatile("ud2");
	printf("ud2: signal %d, code %d (ILL_ILLOPN %d), trapno %lu\n",
	       got_sig, got_code, ILL_ILLOPN, got_trap[0]);
	if (!sigsetjmp(jb, 1))
		__asm__ volatile("int3");
	printf("int3: signal %d, code %d (SI_KERNEL %d)\n", got_sig, got_code,
	       SI_KERNEL);

	/* a stack overflow: only a handler on another stack can run */
	TRYSYS(sigaltstack(&ss, NULL));
	on(SIGSEGV, jump_handler, SA_ONSTACK);
	on_stack = NULL;
	if (!sigsetjmp(jb, 1))
		x = recurse((volatile char *)&x, 0);
	printf("stack overflow: signal %d, handler on the sigaltstack: %s\n",
	       got_sig, prog_yes((char *)on_stack >= alt &&
				 (char *)on_stack < alt + sizeof(alt)));
	(void)x;
	return prog_done();
}
