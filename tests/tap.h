/* SPDX-License-Identifier: GPL-2.0 */
/* A tiny TAP (Test Anything Protocol) helper for the lx tests. */
#ifndef _LX_TESTS_TAP_H
#define _LX_TESTS_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lx/lx.h>

/*
 * Usage: a test case is a void function that calls the CHECK macros; main()
 * runs each case with tap_run("what it tests", fn), which prints one
 * "ok N - name" or "not ok N - name" line per case, and ends with
 * "return tap_done();", which prints the plan "1..N" and gives the exit
 * status (1 if any case failed).  The CHECK macros may be used from any
 * thread of the running case; they return whether the check passed, so a
 * case stops with "if (!CHECK(...)) return;" when going on makes no sense.
 */

#ifndef __printf
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#endif
#ifndef __noreturn
#define __noreturn	__attribute__((noreturn))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

struct tap_state {
	int n;			/* cases run so far */
	int failed;		/* cases that failed */
	const char *name;	/* the running case, or NULL */
	int cur_failed;	/* the running case had a failed check */
	char skip[160];		/* why the running case was skipped */
	bool child;		/* in the child of tap_run_forked() */
};

static struct tap_state tap;

static inline __printf(1, 2) void tap_diag(const char *fmt, ...)
{
	va_list ap;

	flockfile(stdout);
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	funlockfile(stdout);
}

static inline void tap_fail(void)
{
	__atomic_store_n(&tap.cur_failed, 1, __ATOMIC_SEQ_CST);
}

/* Mark the running case as skipped; the case should return right after. */
static inline __printf(1, 2) void tap_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tap.skip, sizeof(tap.skip), fmt, ap);
	va_end(ap);
	if (!tap.skip[0])
		strcpy(tap.skip, "skipped");
}

/* lx_strerror() of v if v looks like a -errno value, else "". */
static inline const char *tap_errstr(long v)
{
	return v < 0 && v >= -4095 ? lx_strerror(v) : "";
}

static inline __printf(5, 6) bool tap_check(bool ok, const char *file,
					     int line, const char *expr,
					     const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	tap_fail();
	flockfile(stdout);
	printf("# %s:%d: failed: %s: ", file, line, expr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	funlockfile(stdout);
	return false;
}

static inline bool tap_check_eq(long got, long want, const char *file,
				int line, const char *expr, const char *wexpr)
{
	if (got == want)
		return true;
	tap_fail();
	flockfile(stdout);
	tap_diag("%s:%d: failed: %s == %s", file, line, expr, wexpr);
	tap_diag("  got:  %ld (%#lx)%s%s", got, (unsigned long)got,
		 *tap_errstr(got) ? " " : "", tap_errstr(got));
	tap_diag("  want: %ld (%#lx)%s%s", want, (unsigned long)want,
		 *tap_errstr(want) ? " " : "", tap_errstr(want));
	funlockfile(stdout);
	return false;
}

static inline bool tap_check_ok(long got, const char *file, int line,
				const char *expr)
{
	if (got >= 0)
		return true;
	tap_fail();
	tap_diag("%s:%d: failed: %s: got %ld (%s)", file, line, expr, got,
		 tap_errstr(got));
	return false;
}

/* cond must hold; the rest is a printf format and arguments explaining it. */
#define CHECK(cond, ...) \
	tap_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* a == b, compared as long; prints both and lx_strerror() of -errno values. */
#define CHECK_EQ(a, b) \
	tap_check_eq((long)(a), (long)(b), __FILE__, __LINE__, #a, #b)

/* A system call result that must not be an error (>= 0). */
#define CHECK_OK(ret) tap_check_ok((long)(ret), __FILE__, __LINE__, #ret)

/* Run one named test case and print its result line. */
static inline void tap_run(const char *name, void (*fn)(void))
{
	tap.name = name;
	tap.cur_failed = 0;
	tap.skip[0] = '\0';
	fn();
	tap.n++;
	if (__atomic_load_n(&tap.cur_failed, __ATOMIC_SEQ_CST)) {
		tap.failed++;
		printf("not ok %d - %s\n", tap.n, name);
	} else if (tap.skip[0]) {
		printf("ok %d - %s # SKIP %s\n", tap.n, name, tap.skip);
	} else {
		printf("ok %d - %s\n", tap.n, name);
	}
	tap.name = NULL;
	fflush(stdout);
}

/*
 * Run a test case in a fork()ed child process (a plain host fork, e.g. so
 * the child can boot a kernel of its own).  The case fails if any check
 * failed in the child or the child did not exit normally.
 */
static inline void tap_run_forked(const char *name, void (*fn)(void))
{
	int status;
	pid_t pid;

	tap.name = name;
	tap.cur_failed = 0;
	tap.skip[0] = '\0';
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		tap.child = true;
		fn();
		fflush(stdout);
		_exit(tap.cur_failed ? 1 : 0);
	}
	if (pid < 0) {
		tap_fail();
		tap_diag("fork: %s", strerror(errno));
	} else if (waitpid(pid, &status, 0) != pid) {
		tap_fail();
		tap_diag("waitpid: %s", strerror(errno));
	} else if (WIFSIGNALED(status)) {
		tap_fail();
		tap_diag("child killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		tap_fail();
		tap_diag("child exited with status %d", WEXITSTATUS(status));
	}
	tap.n++;
	tap.failed += tap.cur_failed;
	printf("%sok %d - %s\n", tap.cur_failed ? "not " : "", tap.n, name);
	tap.name = NULL;
	fflush(stdout);
}

/*
 * Give up: report the running case (if any) as failed, say why, and exit
 * with status 1 without running exit handlers (other threads may still be
 * inside the kernel).
 */
static inline __noreturn __printf(1, 2) void tap_bail(const char *fmt, ...)
{
	va_list ap;

	flockfile(stdout);
	/* a forked case is reported by its parent */
	if (tap.name && !tap.child)
		printf("not ok %d - %s\n", tap.n + 1, tap.name);
	fputs(tap.child ? "# child bails out: " : "Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	funlockfile(stdout);
	_exit(1);
}

/* Print the plan and return the exit status for main(). */
static inline int tap_done(void)
{
	printf("1..%d\n", tap.n);
	if (tap.failed)
		printf("# %d of %d failed\n", tap.failed, tap.n);
	fflush(stdout);
	return tap.failed ? 1 : 0;
}

#endif /* _LX_TESTS_TAP_H */
