/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the lx test programs (boot, I/O, threads). */
#ifndef _LX_TESTS_UTIL_H
#define _LX_TESTS_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include <lx/lx.h>

#include "tap.h"

#define UTIL_CMDLINE	"mem=64M"

/* Size of the kernel's sigset_t on x86-64, the sigsetsize argument. */
#define KSIGSET_SIZE	8

/* The bit of signal sig in a kernel sigset_t (an unsigned long). */
#define SIGBIT(sig)	(1UL << ((sig) - 1))

/*
 * must(expr): a set-up step that has to work for the test program to go on:
 * returns the (non-negative) value of expr, or bails out of the program.
 */
#define must(expr) util_must((long)(expr), #expr, __FILE__, __LINE__)

static inline long util_must(long ret, const char *expr, const char *file,
			     int line)
{
	if (ret < 0)
		tap_bail("%s:%d: %s: %ld (%s)", file, line, expr, ret,
			 tap_errstr(ret));
	return ret;
}

static inline void util_boot_case(void)
{
	CHECK_EQ(lx_running(), 0);
	CHECK_EQ(lx_start_kernel(UTIL_CMDLINE), 0);
	CHECK_EQ(lx_running(), 1);
}

static inline void util_halt_case(void)
{
	CHECK_EQ(lx_halt(), 0);
	CHECK_EQ(lx_running(), 0);
}

/* Boot, or give up on the program (cases before it may have failed). */
static inline void boot_kernel(void)
{
	int failed = tap.failed;

	tap_run("lx_start_kernel(\"" UTIL_CMDLINE "\") boots the kernel",
		util_boot_case);
	if (tap.failed > failed)
		tap_bail("the kernel did not boot");
}

/* The last test case of a program; all other threads must have ended. */
static inline void halt_kernel(void)
{
	tap_run("lx_halt() stops the kernel", util_halt_case);
}

static inline long close_fd(long fd)
{
	return lx_syscall1(SYS_close, fd);
}

/* Make /tmp in the kernel's root file system; it may exist already. */
static inline long make_tmp(void)
{
	long ret = lx_syscall2(SYS_mkdir, "/tmp", 01777);

	return ret == -EEXIST ? 0 : ret;
}

/* Set IFF_UP on the kernel's loopback device "lo". Returns 0 or -errno. */
static inline long loopback_up(void)
{
	struct ifreq ifr;
	long fd, ret;

	fd = lx_syscall3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	ret = lx_syscall3(SYS_ioctl, fd, SIOCGIFFLAGS, &ifr);
	if (ret == 0) {
		ifr.ifr_flags |= IFF_UP;
		ret = lx_syscall3(SYS_ioctl, fd, SIOCSIFFLAGS, &ifr);
	}
	if (ret == 0) {
		ifr.ifr_flags = 0;
		ret = lx_syscall3(SYS_ioctl, fd, SIOCGIFFLAGS, &ifr);
	}
	if (ret == 0 && !(ifr.ifr_flags & IFF_UP))
		ret = -ENETDOWN;
	close_fd(fd);
	return ret;
}

/* write(2) all of buf to an lx fd: len, or -errno if nothing was written. */
static inline long write_all(long fd, const void *buf, size_t len)
{
	size_t done = 0;
	long ret;

	while (done < len) {
		ret = lx_syscall3(SYS_write, fd, (const char *)buf + done,
				  len - done);
		if (ret <= 0)
			return done ? (long)done : (ret ? ret : -EIO);
		done += ret;
	}
	return done;
}

/* read(2) len bytes from an lx fd: len, less at end of file, or -errno. */
static inline long read_all(long fd, void *buf, size_t len)
{
	size_t done = 0;
	long ret;

	while (done < len) {
		ret = lx_syscall3(SYS_read, fd, (char *)buf + done,
				  len - done);
		if (ret < 0)
			return done ? (long)done : ret;
		if (ret == 0)
			break;
		done += ret;
	}
	return done;
}

/* A byte pattern that differs at every offset of a few MiB, per seed. */
static inline unsigned char pattern_byte(size_t i, unsigned int seed)
{
	return (unsigned char)((i * 131 + (i >> 8) * 7 + seed) ^ (i >> 16));
}

static inline void fill_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern_byte(i, seed);
}

/* The first offset where buf differs from the pattern, or -1. */
static inline long check_pattern(const void *buf, size_t len,
				 unsigned int seed)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern_byte(i, seed))
			return i;
	return -1;
}

static inline void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int err = pthread_create(t, NULL, fn, arg);

	if (err)
		tap_bail("pthread_create: %s", strerror(err));
}

static inline void join_thread(pthread_t t)
{
	int err = pthread_join(t, NULL);

	if (err)
		tap_bail("pthread_join: %s", strerror(err));
}

/* Host time of clock id in nanoseconds. */
static inline int64_t host_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* Sleep on the host (not in lx), to give another thread time to block. */
static inline void host_msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Run a shell command on the host; its exit status (128 if it died). */
static inline __printf(1, 2) int host_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* lx_device_add() of a formatted spec; a failure says why. */
static inline __printf(1, 2) long add_device(const char *fmt, ...)
{
	char spec[512], err[256];
	va_list ap;
	long ret;

	va_start(ap, fmt);
	vsnprintf(spec, sizeof(spec), fmt, ap);
	va_end(ap);
	ret = lx_device_add(spec, err, sizeof(err));
	if (ret)
		tap_diag("%s: %s", spec, err);
	return ret;
}

/*
 * Checks in a child made by lx_fork(): its verdict goes back in its exit
 * status (child_fail), a failure says where on stderr.
 */
static int child_fail __attribute__((unused));
#define CHILD_CHECK(cond)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "# child: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);			\
			child_fail = 1;					\
		}							\
	} while (0)

/* The path rel from this program's directory, in buf; 0 if it exists. */
static inline int beside_self(const char *rel, char *buf, size_t len)
{
	char self[256];
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -1;
	self[n] = 0;
	*strrchr(self, '/') = 0;
	snprintf(buf, len, "%s/%s", self, rel);
	return access(buf, F_OK);
}

/*
 * rm -rf dir from a signal handler (run-tests.sh's timeout killed the
 * test): _Fork() and exec only, which are async-signal-safe - fork()
 * runs the atfork handlers, and a malloc lock another thread held is
 * then held for good in the child.
 */
pid_t _Fork(void);	/* glibc 2.34; unistd.h declares it for _GNU_SOURCE */

static inline void remove_tree_now(char *dir)
{
	static char rm[] = "rm", rf[] = "-rf";
	char *const argv[] = { rm, rf, dir, NULL };
	pid_t pid = _Fork();

	if (pid == 0) {
		execv("/bin/rm", argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

#endif /* _LX_TESTS_UTIL_H */
