/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prog.h - what the programs of lx's C suite (tests/prog/) share.
 *
 * Each program prints what it found on stdout, in an order that does not
 * depend on timing, so that a run inside lx and a native run of the same
 * binary print the same bytes.  A check that fails prints a "FAIL" line and
 * makes the program exit with status 1 (prog_done()); the test compares
 * output and status, and wants the native run to pass.  The programs build
 * with glibc and musl alike: only POSIX and Linux calls both libcs have.
 */
#ifndef _LX_PROG_H
#define _LX_PROG_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static int prog_failures;

/* cond must hold; else print why (a printf format and arguments). */
#define TRY(cond, ...)							\
	do {								\
		if (!(cond)) {						\
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			printf(__VA_ARGS__);				\
			putchar('\n');					\
			prog_failures++;				\
		}							\
	} while (0)

/* A pthread_* or other call that returns 0 or an error number. */
#define TRY0(call)							\
	do {								\
		int __e = (call);					\
		if (__e) {						\
			printf("FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, \
			       #call, strerror(__e));			\
			prog_failures++;				\
		}							\
	} while (0)

/* A system call that returns -1 and sets errno on failure. */
#define TRYSYS(call)							\
	({								\
		long __r = (long)(call);				\
		if (__r == -1) {					\
			printf("FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, \
			       #call, strerror(errno));			\
			prog_failures++;				\
		}							\
		__r;							\
	})

/* "yes" or "no" for a result that should be "yes" (a failure if not). */
static inline const char *prog_yes(int cond)
{
	if (!cond)
		prog_failures++;
	return cond ? "yes" : "no";
}

/* The exit status of main: 1 if any check failed. */
static inline int prog_done(void)
{
	fflush(stdout);
	return prog_failures ? 1 : 0;
}

static inline void prog_msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The Threads: line of /proc/self/status (-1 without /proc). */
static inline int prog_threads(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* A byte pattern that differs at every offset, per seed. */
static inline unsigned char prog_byte(size_t i, unsigned int seed)
{
	return (unsigned char)((i * 131 + (i >> 8) * 7 + seed) ^ (i >> 16));
}

/* buf gets the pattern's bytes from offset at on. */
static inline void prog_fill(void *buf, size_t len, size_t at,
			     unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = prog_byte(at + i, seed);
}

/* The first offset where buf differs from the pattern from at on, or -1. */
static inline long prog_check(const void *buf, size_t len, size_t at,
			      unsigned int seed)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != prog_byte(at + i, seed))
			return i;
	return -1;
}

/* The name of an error number, the same with every libc. */
static inline const char *prog_errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENODEV: return "ENODEV";
	case ENOSYS: return "ENOSYS";
	case EPIPE: return "EPIPE";
	case EDEADLK: return "EDEADLK";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EOWNERDEAD: return "EOWNERDEAD";
	case ENOTRECOVERABLE: return "ENOTRECOVERABLE";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENETUNREACH: return "ENETUNREACH";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return strerror(e);
	}
}

/* fn handles sig, with sa_flags flags and nothing more blocked */
static inline void prog_handle(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	TRYSYS(sigaction(sig, &sa, NULL));
}

/* SIGALRM in usec microseconds (ITIMER_REAL, once) */
static inline void prog_arm_timer(long usec)
{
	struct itimerval it = { { 0, 0 }, { usec / 1000000, usec % 1000000 } };

	TRYSYS(setitimer(ITIMER_REAL, &it, NULL));
}

#endif /* _LX_PROG_H */
