// SPDX-License-Identifier: GPL-2.0
/*
 * futex.c - the futex system call as programs use it directly (Go does,
 * libcs do under their locks): a wait that finds another value, relative
 * and absolute timeouts, bad arguments, bitsets, wake counts, requeue,
 * wake-op, a process-shared word, futex_waitv, PI locks, and signals that
 * interrupt a wait - ended with EINTR, or restarted under SA_RESTART.
 * Inside lx the waits are host waits a kick interrupts (guest/dispatch.c);
 * every line must read as natively.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "prog.h"

/* the uapi names, for musl's headers too */
#define WAIT 0
#define WAKE 1
#define REQUEUE 3
#define CMP_REQUEUE 4
#define WAKE_OP 5
#define LOCK_PI 6
#define UNLOCK_PI 7
#define WAIT_BITSET 9
#define WAKE_BITSET 10
#define PRIVATE 128
#define CLOCK_RT 256
#define NR_FUTEX_WAITV 449

struct waitv {			/* struct futex_waitv */
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

static long futex(volatile uint32_t *w, int op, uint32_t val,
		  const struct timespec *ts, volatile uint32_t *w2,
		  uint32_t val3)
{
	return syscall(SYS_futex, w, op, val, ts, w2, val3);
}

/* "0" or the errno name of a call's result */
static const char *res(long r)
{
	return r == -1 ? prog_errname(errno) : "0";
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static volatile uint32_t word, word2;
static volatile int flag;

static void on_sig(int sig)
{
	(void)sig;
	flag = 1;
}

static void timeouts(void)
{
	struct timespec rel = { 0, 50000000 }, at, bad = { 0, 2000000000 };
	double t0;
	long r;

	word = 1;
	printf("wait for 0 on a word holding 1: %s\n",
	       res(futex(&word, WAIT | PRIVATE, 0, NULL, NULL, 0)));
	t0 = mono_ms();
	r = futex(&word, WAIT | PRIVATE, 1, &rel, NULL, 0);
	printf("wait, 50 ms relative timeout: %s, waited 50 ms: %s\n", res(r),
	       prog_yes(mono_ms() - t0 >= 49.9));
	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_nsec += 50000000;
	at.tv_sec += at.tv_nsec / 1000000000;
	at.tv_nsec %= 1000000000;
	t0 = mono_ms();
	r = futex(&word, WAIT_BITSET | PRIVATE, 1, &at, NULL, ~0U);
	printf("wait_bitset, monotonic deadline 50 ms ahead: %s, waited: %s\n",
	       res(r), prog_yes(mono_ms() - t0 >= 49.9));
	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_nsec += 50000000;
	at.tv_sec += at.tv_nsec / 1000000000;
	at.tv_nsec %= 1000000000;
	r = futex(&word, WAIT_BITSET | PRIVATE | CLOCK_RT, 1, &at, NULL, ~0U);
	printf("wait_bitset, realtime deadline: %s\n", res(r));
	at.tv_sec -= 10;
	r = futex(&word, WAIT_BITSET | PRIVATE | CLOCK_RT, 1, &at, NULL, ~0U);
	printf("wait_bitset, realtime deadline passed: %s\n", res(r));
	printf("wait with FUTEX_CLOCK_REALTIME: %s\n",
	       res(futex(&word, WAIT | PRIVATE | CLOCK_RT, 1, &rel, NULL, 0)));
	printf("wait, tv_nsec 2e9: %s\n",
	       res(futex(&word, WAIT | PRIVATE, 1, &bad, NULL, 0)));
	printf("wait, timeout at a bad address: %s\n",
	       res(futex(&word, WAIT | PRIVATE, 1, (void *)8, NULL, 0)));
	printf("wait on a bad address: %s\n",
	       res(futex((void *)8, WAIT | PRIVATE, 1, NULL, NULL, 0)));
	printf("wait_bitset, bitset 0: %s\n",
	       res(futex(&word, WAIT_BITSET | PRIVATE, 1, NULL, NULL, 0)));
}

/* waits on word while it is 0, with the bitset given */
static void *waiter(void *arg)
{
	uint32_t bits = (uint32_t)(uintptr_t)arg;

	while (!__atomic_load_n(&word, __ATOMIC_ACQUIRE))
		futex(&word, WAIT_BITSET | PRIVATE, 0, NULL, NULL, bits);
	return NULL;
}

/*
 * Long enough for threads just made to be asleep in their waits (nothing
 * says they are: a wait is not seen from outside).
 */
static void settle(void)
{
	usleep(200000);
}

/* word set, every waiter woken: none is left behind if a count was off */
static void release(volatile uint32_t *w)
{
	__atomic_store_n(w, 1, __ATOMIC_RELEASE);
	futex(w, WAKE | PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void wakes(void)
{
	pthread_t t[3];
	long n;
	int i;

	/* a waiter on bit 0: a wake of bit 1 misses it, one of bit 0 not */
	word = 0;
	TRY0(pthread_create(&t[0], NULL, waiter, (void *)1));
	settle();
	n = futex(&word, WAKE_BITSET | PRIVATE, 1, NULL, NULL, 2);
	printf("wake_bitset on another bit woke: %ld\n", n);
	word = 1;
	n = futex(&word, WAKE_BITSET | PRIVATE, 1, NULL, NULL, 1);
	printf("wake_bitset on its bit woke: %ld\n", n);
	release(&word);
	TRY0(pthread_join(t[0], NULL));

	word = 0;
	for (i = 0; i < 3; i++)
		TRY0(pthread_create(&t[i], NULL, waiter, (void *)~0UL));
	settle();
	word = 1;
	printf("three waiters, wake 2: %ld\n",
	       futex(&word, WAKE | PRIVATE, 2, NULL, NULL, 0));
	printf("then wake 5: %ld\n",
	       futex(&word, WAKE | PRIVATE, 5, NULL, NULL, 0));
	release(&word);
	for (i = 0; i < 3; i++)
		TRY0(pthread_join(t[i], NULL));
	printf("wake with nobody waiting: %ld\n",
	       futex(&word, WAKE | PRIVATE, 5, NULL, NULL, 0));
}

/* waits on word while flag is 0; may be requeued to word2 */
static void *requeued(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&flag, __ATOMIC_ACQUIRE))
		futex(&word, WAIT | PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

static void requeue(void)
{
	pthread_t t[3];
	long r;
	int i;
	/* *word2 = 5; wake word2's waiters if it was 0 */
	uint32_t op = (1U << 28) | (5U << 12);

	word = 0;
	flag = 0;
	printf("cmp_requeue, value differs: %s\n",
	       res(futex(&word, CMP_REQUEUE | PRIVATE, 0, (void *)1L, &word2,
			 7)));
	for (i = 0; i < 3; i++)
		TRY0(pthread_create(&t[i], NULL, requeued, NULL));
	settle();
	r = futex(&word, CMP_REQUEUE | PRIVATE, 1, (void *)(long)INT_MAX,
		  &word2, 0);
	printf("cmp_requeue, wake 1, move the rest: %ld\n", r);
	settle();
	__atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
	printf("a wake of the second word wakes: %ld\n",
	       futex(&word2, WAKE | PRIVATE, INT_MAX, NULL, NULL, 0));
	release(&word);
	for (i = 0; i < 3; i++)
		TRY0(pthread_join(t[i], NULL));
	printf("requeue (no compare) with nobody waiting: %ld\n",
	       futex(&word, REQUEUE | PRIVATE, 1, (void *)1L, &word2, 0));

	word2 = 0;
	r = futex(&word, WAKE_OP | PRIVATE, 1, (void *)1L, &word2, op);
	printf("wake_op: %ld, second word set to %u\n", r, word2);
}

/* a process-shared word in a MAP_SHARED mapping: shared wait and wake */
static volatile uint32_t *shared;

static void *shared_waiter(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(shared, __ATOMIC_ACQUIRE))
		futex(shared, WAIT, 0, NULL, NULL, 0);
	return NULL;
}

static void process_shared(void)
{
	pthread_t t;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	TRY(m != MAP_FAILED, "mmap: %s", strerror(errno));
	if (m == MAP_FAILED)
		return;
	shared = m;
	TRY0(pthread_create(&t, NULL, shared_waiter, NULL));
	settle();
	*shared = 1;
	printf("shared word, private wake woke: %ld\n",
	       futex(shared, WAKE | PRIVATE, 1, NULL, NULL, 0));
	printf("shared word, shared wake woke: %ld\n",
	       futex(shared, WAKE, 1, NULL, NULL, 0));
	TRY0(pthread_join(t, NULL));
	munmap(m, 4096);
}

static void waitv(void)
{
	static volatile uint32_t a, b;
	struct waitv w[2] = {
		{ .val = 0, .uaddr = (uintptr_t)&a, .flags = 2 | PRIVATE },
		{ .val = 0, .uaddr = (uintptr_t)&b, .flags = 2 | PRIVATE },
	};
	struct timespec at;
	long r;

	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_nsec += 50000000;
	at.tv_sec += at.tv_nsec / 1000000000;
	at.tv_nsec %= 1000000000;
	r = syscall(NR_FUTEX_WAITV, w, 2, 0, &at, CLOCK_MONOTONIC);
	printf("futex_waitv, deadline 50 ms ahead: %s\n", res(r));
	b = 1;
	r = syscall(NR_FUTEX_WAITV, w, 2, 0, &at, CLOCK_MONOTONIC);
	printf("futex_waitv, second word changed: %s\n", res(r));
	b = 0;
	r = syscall(NR_FUTEX_WAITV, w, 2, 1, &at, CLOCK_MONOTONIC);
	printf("futex_waitv, flags 1: %s\n", res(r));
}

static volatile uint32_t pi;

static void *pi_locker(void *arg)
{
	(void)arg;
	if (futex(&pi, LOCK_PI | PRIVATE, 0, NULL, NULL, 0))
		return (void *)1;
	flag = (pi & 0x3fffffff) == (uint32_t)syscall(SYS_gettid);
	futex(&pi, UNLOCK_PI | PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

static void pi_lock(void)
{
	pthread_t t;
	void *r;

	pi = 0;
	flag = 0;
	r = (void *)res(futex(&pi, LOCK_PI | PRIVATE, 0, NULL, NULL, 0));
	printf("lock_pi, free: %s, word is my tid: %s\n", (char *)r,
	       prog_yes(pi == (uint32_t)syscall(SYS_gettid)));
	TRY0(pthread_create(&t, NULL, pi_locker, NULL));
	/* the other thread blocks and marks the word: waiters */
	while (!(__atomic_load_n(&pi, __ATOMIC_ACQUIRE) & 0x80000000U))
		usleep(1000);
	printf("unlock_pi with a waiter: %s\n",
	       res(futex(&pi, UNLOCK_PI | PRIVATE, 0, NULL, NULL, 0)));
	TRY0(pthread_join(t, &r));
	printf("the waiter got it: %s\n", prog_yes(!r && flag));
	printf("unlock_pi, not the owner: %s\n",
	       res(futex(&pi, UNLOCK_PI | PRIVATE, 0, NULL, NULL, 0)));
}

static void *late_waker(void *arg)
{
	(void)arg;
	usleep(300000);
	__atomic_store_n(&word, 1, __ATOMIC_RELEASE);
	futex(&word, WAKE | PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

static void *blocked(void *arg)
{
	struct timespec rel = { 5, 0 };	/* not for ever, if it goes wrong */
	long r;

	(void)arg;
	r = futex(&word, WAIT | PRIVATE, 0, &rel, NULL, 0);
	return (void *)(r == -1 ? (long)errno : 0L);
}

static void interrupted(void)
{
	struct timespec rel = { 5, 0 };
	pthread_t t;
	void *e;
	long r;

	/* no SA_RESTART: the wait ends with EINTR */
	prog_handle(SIGALRM, on_sig, 0);
	word = 0;
	flag = 0;
	prog_arm_timer(50000);
	r = futex(&word, WAIT | PRIVATE, 0, NULL, NULL, 0);
	printf("wait, SIGALRM without SA_RESTART: %s, handler ran: %s\n",
	       res(r), prog_yes(flag));

	/* SA_RESTART: the wait goes on, until the word is woken */
	prog_handle(SIGALRM, on_sig, SA_RESTART);
	flag = 0;
	TRY0(pthread_create(&t, NULL, late_waker, NULL));
	prog_arm_timer(50000);
	r = futex(&word, WAIT | PRIVATE, 0, NULL, NULL, 0);
	printf("wait, SIGALRM with SA_RESTART: %s, handler ran: %s\n",
	       res(r), prog_yes(flag));
	TRY0(pthread_join(t, NULL));

	/* a timed wait is not restarted when a handler ran */
	word = 0;
	flag = 0;
	prog_arm_timer(50000);
	r = futex(&word, WAIT | PRIVATE, 0, &rel, NULL, 0);
	printf("timed wait, SIGALRM with SA_RESTART: %s, handler ran: %s\n",
	       res(r), prog_yes(flag));

	/* a signal for another thread, waiting */
	prog_handle(SIGUSR1, on_sig, 0);
	flag = 0;
	TRY0(pthread_create(&t, NULL, blocked, NULL));
	usleep(100000);
	TRY0(pthread_kill(t, SIGUSR1));
	TRY0(pthread_join(t, &e));
	printf("a waiting thread sent SIGUSR1: %s\n",
	       prog_errname((int)(long)e));
}

int main(void)
{
	timeouts();
	wakes();
	requeue();
	process_shared();
	waitv();
	pi_lock();
	interrupted();
	return prog_done();
}
