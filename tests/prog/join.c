// SPDX-License-Identifier: GPL-2.0
/*
 * join.c - pthread_join of threads that have already exited (their kernel
 * task gone, seen with tgkill(tid, 0) = ESRCH), in reverse order, of one
 * that ends with pthread_exit() deep in a call chain, of one still
 * running, and pthread_detach of an exited thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prog.h"

#define N 8

static int tids[N];	/* each thread's tid, stored when it runs */

static void *quick(void *arg)
{
	int i = (int)(intptr_t)arg;

	__atomic_store_n(&tids[i], syscall(SYS_gettid), __ATOMIC_RELEASE);
	return (void *)(intptr_t)(i * i + 1);
}

/* pthread_exit from depth calls down (v counts them); returns if v < 0 */
static intptr_t deep(int depth, intptr_t v)
{
	if (depth > 0)
		return deep(depth - 1, v + 1);
	if (v >= 0)
		pthread_exit((void *)v);
	return v;
}

static void *via_exit(void *arg)
{
	__atomic_store_n(&tids[0], syscall(SYS_gettid), __ATOMIC_RELEASE);
	deep(10, (intptr_t)arg);
	return NULL;
}

static void *slow(void *arg)
{
	prog_msleep(100);
	return arg;
}

/* Wait (at most 10 s) until thread tid has left the kernel. */
static int gone(int tid)
{
	int i;

	for (i = 0; i < 10000; i++) {
		if (syscall(SYS_tgkill, getpid(), tid, 0) && errno == ESRCH)
			return 1;
		prog_msleep(1);
	}
	return 0;
}


int main(void)
{
	pthread_t t[N];
	void *ret;
	long sum = 0;
	int i, all_gone = 1, start = prog_threads();

	for (i = 0; i < N; i++) {
		tids[i] = 0;
		TRY0(pthread_create(&t[i], NULL, quick, (void *)(intptr_t)i));
	}
	for (i = 0; i < N; i++) {
		while (!__atomic_load_n(&tids[i], __ATOMIC_ACQUIRE))
			prog_msleep(1);
		all_gone &= gone(tids[i]);
	}
	printf("%d threads exited before the join: %s; threads left as at start: %s\n",
	       N, prog_yes(all_gone), prog_yes(prog_threads() == start));
	for (i = N - 1; i >= 0; i--) {
		TRY0(pthread_join(t[i], &ret));
		sum += (intptr_t)ret;
	}
	printf("joined in reverse order, values sum to %ld\n", sum);

	tids[0] = 0;
	TRY0(pthread_create(&t[0], NULL, via_exit, (void *)(intptr_t)100));
	while (!__atomic_load_n(&tids[0], __ATOMIC_ACQUIRE))
		prog_msleep(1);
	printf("pthread_exit thread gone: %s\n", prog_yes(gone(tids[0])));
	TRY0(pthread_join(t[0], &ret));
	printf("pthread_exit value: %ld\n", (long)(intptr_t)ret);

	TRY0(pthread_create(&t[0], NULL, slow, (void *)(intptr_t)77));
	TRY0(pthread_join(t[0], &ret));
	printf("joined a running thread: %ld\n", (long)(intptr_t)ret);

	tids[1] = 0;
	TRY0(pthread_create(&t[1], NULL, quick, (void *)(intptr_t)1));
	while (!__atomic_load_n(&tids[1], __ATOMIC_ACQUIRE))
		prog_msleep(1);
	printf("detached after exit: gone %s, pthread_detach %s\n",
	       prog_yes(gone(tids[1])),
	       prog_errname(pthread_detach(t[1])));
	printf("threads left as at start: %s\n",
	       prog_yes(prog_threads() == start));
	TRY(start >= 1, "/proc/self/status says %d threads", start);
	return prog_done();
}
